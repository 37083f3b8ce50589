/// Checks that bytes are one JSON object (RFC 8259) without building it: the log embeds
/// event data verbatim in its output, so it must be valid, and checking it must cost far
/// less than the append (Foundation's parser costs more than the whole LMDB put).
public enum JSONValidator {
    /// Whether the bytes are one JSON object, and if not, why.
    public enum Outcome: Equatable, Sendable {
        case valid
        case invalid(String)
    }

    /// Checks `bytes` in one pass, building nothing.
    public static func validateObject(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(bytes: buffer)
            scanner.skipSpace()
            guard scanner.peek == UInt8(ascii: "{") else { return .invalid("it is not an object") }
            guard scanner.value(depth: 0) else { return .invalid("it is not valid JSON (near byte \(scanner.index))") }
            scanner.skipSpace()
            return scanner.index == buffer.count ? .valid : .invalid("bytes follow the object")
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        static let maximumDepth = 64

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maximumDepth else { return false }
            skipSpace()
            guard let c = peek else { return false }
            switch c {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            index += 1
            skipSpace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return true
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\""), string() else { return false }
                skipSpace()
                guard peek == UInt8(ascii: ":") else { return false }
                index += 1
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                } else if peek == UInt8(ascii: "}") {
                    index += 1
                    return true
                } else {
                    return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            index += 1
            skipSpace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return true
            }
            while true {
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                } else if peek == UInt8(ascii: "]") {
                    index += 1
                    return true
                } else {
                    return false
                }
            }
        }

        mutating func string() -> Bool {
            // The hot loop of validation (event data is mostly string bytes): skip eight
            // plain bytes at a time, then look at the one that stopped the skip.
            guard let base = bytes.baseAddress else { return false }
            let end = bytes.count
            var i = index + 1
            defer { index = i }
            while true {
                while i &+ 8 <= end, !Self.mayEndString(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i &+= 8
                }
                guard i < end else { return false }
                let c = base[i]
                i += 1
                if c == UInt8(ascii: "\"") { return true }
                if c < 0x20 { return false }
                if c == UInt8(ascii: "\\") {
                    guard i < end else { return false }
                    let e = base[i]
                    i += 1
                    if e == UInt8(ascii: "u") {
                        guard i + 4 <= end else { return false }
                        for _ in 0..<4 {
                            guard isHex(base[i]) else { return false }
                            i += 1
                        }
                    } else if !(e == 0x22 || e == 0x5C || e == 0x2F || e == 0x62 || e == 0x66 || e == 0x6E
                        || e == 0x72 || e == 0x74)
                    {
                        return false
                    }
                }
            }
        }

        /// Whether any of the eight bytes is a quote, a backslash or a control character
        /// (below 0x20): the bytes a string scan must stop at. Exact, never a false "no"
        /// (the classic has-zero-byte and has-less-than tests on one 64-bit word).
        @inline(__always)
        static func mayEndString(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let zeroInQuote = (quote &- ones) & ~quote
            let zeroInBackslash = (backslash &- ones) & ~backslash
            let belowSpace = (word &- ones &* 0x20) & ~word
            return (zeroInQuote | zeroInBackslash | belowSpace) & highs != 0
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        mutating func number() -> Bool {
            if peek == UInt8(ascii: "-") { index += 1 }
            guard let first = peek, isDigit(first) else { return false }
            index += 1
            if first != UInt8(ascii: "0") { while let c = peek, isDigit(c) { index += 1 } }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard let c = peek, isDigit(c) else { return false }
                while let c = peek, isDigit(c) { index += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard let c = peek, isDigit(c) else { return false }
                while let c = peek, isDigit(c) { index += 1 }
            }
            return true
        }

        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) }
    }
}
