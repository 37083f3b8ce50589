import Foundation
import JSONCoding
import TestSupport
import Testing

/// The validator skips string bytes eight at a time; these tests hold it to a byte-at-a-time
/// reference on random strings, so the fast path can never accept or reject what the slow
/// one would not.
@Suite("JSON validator fast path")
struct JSONValidatorFastPathTests {
    /// Bytes a string scan must treat specially, mixed with plain ones so that every byte
    /// lands at every offset of an eight-byte word.
    static let alphabet: [UInt8] =
        Array("\"\\u/bfnrtAF09 x{}".utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x20, 0x7F, 0x80, 0xC3, 0xA9, 0xFF]

    @Test("random strings: the word-at-a-time scan agrees with the byte-at-a-time reference")
    func agreesWithReference() {
        var generator = SplitMix(seed: 0xB0_7A1C)
        var disagreements: [[UInt8]] = []
        for _ in 0..<20_000 {
            let keyLength = Int(generator.next() % 9)
            let valueLength = Int(generator.next() % 40)
            var body = Array(repeating: UInt8(ascii: "k"), count: keyLength)
            body += (0..<valueLength).map { _ in
                // Mostly plain bytes (long clean runs), sometimes a special one.
                generator.next() % 4 == 0
                    ? Self.alphabet[Int(generator.next() % UInt64(Self.alphabet.count))] : UInt8(ascii: "x")
            }
            let document =
                Array("{\"".utf8) + body.prefix(keyLength) + Array("\":\"".utf8) + body.dropFirst(keyLength)
                + Array("\"}".utf8)
            let fast = JSONValidator.validateObject(document) == .valid
            if fast
                != Self.referenceIsValid(key: Array(body.prefix(keyLength)), value: Array(body.dropFirst(keyLength)))
            {
                disagreements.append(document)
            }
        }
        #expect(
            disagreements.isEmpty, "first: \(disagreements.first.map { String(decoding: $0, as: UTF8.self) } ?? "")")
    }

    @Test("a control character, quote or backslash at each offset of a long string is found")
    func specialByteAtEveryOffset() {
        for offset in 0..<40 {
            for special: UInt8 in [0x00, 0x1F, UInt8(ascii: "\\")] {
                var value = Array(repeating: UInt8(ascii: "x"), count: 40)
                value[offset] = special
                let document = Array("{\"k\":\"".utf8) + value + Array("\"}".utf8)
                // A lone backslash before "x" is an invalid escape; a control byte is invalid.
                #expect(JSONValidator.validateObject(document) != .valid, "byte \(special) at \(offset)")
            }
            var value = Array(repeating: UInt8(ascii: "x"), count: 40)
            value[offset] = UInt8(ascii: "\"")
            // A quote ends the string early: what follows is not JSON.
            let document = Array("{\"k\":\"".utf8) + value + Array("\"}".utf8)
            #expect(JSONValidator.validateObject(document) != .valid, "quote at \(offset)")
            let clean =
                Array("{\"k\":\"".utf8)
                + Array(String(repeating: "é", count: offset).utf8) + Array("\"}".utf8)
            #expect(JSONValidator.validateObject(clean) == .valid, "\(offset) non-ASCII characters")
        }
    }

    /// `{"key":"value"}` judged one byte at a time, the way the validator scanned before it
    /// learned to skip words: both strings must be closed by their own quote, hold no byte
    /// below 0x20, and use only JSON's escapes.
    static func referenceIsValid(key: [UInt8], value: [UInt8]) -> Bool {
        func stringIsValid(_ bytes: [UInt8]) -> Bool {
            var i = 0
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if c == UInt8(ascii: "\"") || c < 0x20 { return false }
                guard c == UInt8(ascii: "\\") else { continue }
                guard i < bytes.count else { return false }
                let e = bytes[i]
                i += 1
                if e == UInt8(ascii: "u") {
                    guard i + 4 <= bytes.count else { return false }
                    let hex = bytes[i..<(i + 4)]
                    guard hex.allSatisfy({ Array("0123456789abcdefABCDEF".utf8).contains($0) }) else { return false }
                    i += 4
                } else if !Array("\"\\/bfnrt".utf8).contains(e) {
                    return false
                }
            }
            return true
        }
        return stringIsValid(key) && stringIsValid(value)
    }
}

/// String escaping copies unescaped runs whole; this holds it to the byte-at-a-time
/// escaper it replaced, on random strings rich in what must be escaped.
@Suite("JSON string escaping fast path")
struct JSONStringEscapingTests {
    @Test("random strings: run-copying escape equals the byte-at-a-time reference")
    func agreesWithReference() {
        var random = SplitMix(seed: 0xE5C4_9E)
        let pieces = ["a", "plain text ", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "💡", "/"]
        for _ in 0..<5_000 {
            let text = (0..<Int(random.next(upTo: 30))).map { _ in pieces[Int(random.next(upTo: UInt64(pieces.count)))]
            }
            .joined()
            var fast: [UInt8] = []
            JSONText.appendString(text, to: &fast)
            #expect(fast == Self.reference(text), "\(text.debugDescription)")
            guard fast == Self.reference(text) else { return }
        }
    }

    /// RFC 8259 escaping one byte at a time, as the writer did before.
    static func reference(_ text: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0x0A: out += [92, 110]
            case 0x0D: out += [92, 114]
            case 0x09: out += [92, 116]
            case 0..<0x20: out += Array(String(format: "\\u%04x", Int(byte)).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}
