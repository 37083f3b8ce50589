import JSONCoding
import TestSupport
import Testing

/// `JSONObjectWriter` writes each field straight into the object's bytes and reorders only
/// when a key arrives out of order; these tests hold it to the writer it replaced, which
/// kept every field apart and sorted them all at the end.
@Suite("JSON object writer fast path")
struct JSONObjectWriterTests {
    /// The former writer, kept as the reference: fields apart, keys escaped and sorted at the end.
    struct Reference {
        var fields: [(key: String, value: [UInt8])] = []
        func bytes() -> [UInt8] {
            var out: [UInt8] = [UInt8(ascii: "{")]
            let ordered = zip(fields, fields.dropFirst()).allSatisfy {
                $0.key.utf8.lexicographicallyPrecedes($1.key.utf8)
            }
            let sorted = ordered ? fields : fields.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
            for (index, field) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += JSONWriting.string(field.key)
                out.append(UInt8(ascii: ":"))
                out += field.value
            }
            out.append(UInt8(ascii: "}"))
            return out
        }
    }

    /// Keys that share prefixes, need escaping, or sort differently as bytes than as Characters.
    static let keys = ["a", "ab", "b", "B", "id", "id_", "é", "e\u{301}", "\"q\"", "tab\t", "", "z", "zz", "ü", "😀"]

    @Test("random fields, in and out of order: byte-equal to the reference")
    func agreesWithReference() {
        var generator = SplitMix(seed: 0x0B_1EC7)
        var mismatches: [String] = []
        for round in 0..<5_000 {
            var writer = JSONObjectWriter()
            var reference = Reference()
            // Half the rounds add distinct keys in byte order (every view's writer does).
            var available = Self.keys.shuffled(using: &generator)
            if round % 2 == 0 { available.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
            let count = Int(generator.next(upTo: UInt64(available.count + 1)))
            for key in available.prefix(count) {
                switch generator.next(upTo: 6) {
                case 0:
                    let text = String(Self.keys.randomElement(using: &generator)!) + "\n\\/"
                    writer.string(key, text)
                    reference.fields.append((key, JSONWriting.string(text)))
                case 1:
                    let number = Int64(bitPattern: generator.next())
                    writer.int(key, number)
                    reference.fields.append((key, Array("\(number)".utf8)))
                case 2:
                    writer.bool(key, round % 3 == 0)
                    reference.fields.append((key, Array((round % 3 == 0 ? "true" : "false").utf8)))
                case 3:
                    writer.null(key)
                    reference.fields.append((key, Array("null".utf8)))
                case 4:
                    let object: JSONObject = ["y": .int(1), "x": .array([.string("é"), .null]), "w": .double(0.5)]
                    writer.object(key, object)
                    reference.fields.append((key, JSONWriting.value(.object(object))))
                default:
                    writer.raw(key, Array("[1,2]".utf8))
                    reference.fields.append((key, Array("[1,2]".utf8)))
                }
            }
            if writer.bytes() != reference.bytes() {
                mismatches.append(String(decoding: writer.bytes(), as: UTF8.self))
            }
        }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(2))")
    }

    @Test("integers are written as Swift's description writes them, at every magnitude and type")
    func integers() {
        var generator = SplitMix(seed: 0x1A7E)
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.min + 1]
        for _ in 0..<2_000 {
            // Every digit count: a random 64-bit value shifted right by 0...63 bits, either sign.
            let magnitude = Int64(bitPattern: generator.next() >> (1 + generator.next(upTo: 63)))
            values.append(generator.next(upTo: 2) == 0 ? magnitude : -magnitude)
        }
        var wrong: [Int64] = []
        for value in values {
            var out: [UInt8] = [UInt8(ascii: "x")]
            JSONText.appendInt(value, to: &out)
            if out != Array("x\(value)".utf8) { wrong.append(value) }
        }
        #expect(wrong.isEmpty, "first: \(wrong.prefix(3))")
        // Types wider than Int64 (and values beyond it) still take the description.
        var writer = JSONObjectWriter()
        writer.int("a", UInt64.max)
        writer.int("b", Int8.min)
        writer.int("c", UInt32.max)
        #expect(
            String(decoding: writer.bytes(), as: UTF8.self) == #"{"a":18446744073709551615,"b":-128,"c":4294967295}"#)
    }

    @Test("key order by UTF-8 bytes, as the generic comparison gives it")
    func keyOrder() {
        for a in Self.keys {
            for b in Self.keys {
                #expect(JSONText.precedes(a, b) == a.utf8.lexicographicallyPrecedes(b.utf8), "\(a) < \(b)")
            }
        }
    }

    @Test("a key repeated keeps the order it was added in, sorted among the others")
    func repeatedKeys() {
        var writer = JSONObjectWriter()
        writer.int("b", 1)
        writer.int("a", 2)
        writer.int("b", 3)
        #expect(String(decoding: writer.bytes(), as: UTF8.self) == #"{"a":2,"b":1,"b":3}"#)
    }
}
