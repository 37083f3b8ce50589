import JSONCoding
import TestSupport
import Testing

/// ``JSONReader`` adds up integers of at most 18 digits itself instead of parsing their
/// text; these hold it to the text's parse (`Int64`, else a finite `Double`).
@Suite("JSON reader numbers")
struct JSONNumberTests {
    /// What the reader gave for every number before it added digits up itself.
    static func reference(_ text: String) -> JSONValue? {
        if !text.contains(where: { ".eE".contains($0) }), let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else { return nil }
        return .double(value)
    }

    @Test("random integers of 1 to 22 digits, either sign: the same value as parsing their text")
    func randomIntegers() throws {
        var random = SplitMix(seed: 0x5EED_0018)
        var fastPath = 0
        for _ in 0..<20_000 {
            let length = 1 + Int(random.next(upTo: 22))
            var digits = String(1 + random.next(upTo: 9))
            for _ in 1..<length { digits += String(random.next(upTo: 10)) }
            if random.next(upTo: 20) == 0 { digits = "0" }
            let text = (random.next(upTo: 2) == 0 ? "-" : "") + digits
            if digits.count <= 18 { fastPath += 1 }
            let parsed = try JSONReader.parse(Array(text.utf8))
            #expect(parsed == Self.reference(text), "\(text)")
            let inObject = try JSONReader.members(Array("{\"n\":\(text)}".utf8))
            #expect(inObject["n"] == Self.reference(text), "\(text) in an object")
        }
        #expect(fastPath > 10_000)
    }

    @Test("the edges: 18 and 19 digits, Int64's limits and one past them, zero and minus zero")
    func edges() throws {
        let texts = [
            "0", "-0", "9", "-9", "999999999999999999", "-999999999999999999", "1000000000000000000",
            "-1000000000000000000", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "-9223372036854775809", "99999999999999999999999",
        ]
        for text in texts {
            #expect(try JSONReader.parse(Array(text.utf8)) == Self.reference(text), "\(text)")
        }
        #expect(try JSONReader.parse(Array("-0".utf8)) == .int(0))
        #expect(try JSONReader.parse(Array("9223372036854775808".utf8)) == .double(9_223_372_036_854_775_808))
    }
}
