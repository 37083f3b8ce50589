import JSONCoding
import TestSupport
import Testing

/// Events are decoded from ``JSONReader/members(_:)`` (members in order, no dictionary);
/// these hold it to ``JSONReader/object(_:)``: the same texts accepted and refused, and
/// every key answering the same value.
@Suite("JSON members reader")
struct JSONMembersTests {
    static let keys = ["a", "b", "id", "job_id", "é", "\\n", "k\\u0041", "x", "y", "z"] + (0..<30).map { "f\($0)" }
    static let values = [
        "1", "-7", "2.5", "true", "null", "\"s\"", "{\"n\":[1,{\"m\":null}]}", "[]", "{}", "\"\\u00e9\"",
    ]

    /// A random object's text and its keys in order; sometimes a key repeats, sometimes the
    /// text is broken.
    static func randomObject(_ random: inout SplitMix) -> (text: String, keys: [String]) {
        let count = Int(random.next(upTo: 40))
        var keys: [String] = []
        var parts: [String] = []
        for _ in 0..<count {
            let repeatOne = !keys.isEmpty && random.next(upTo: 25) == 0
            let key =
                repeatOne
                ? keys[Int(random.next(upTo: UInt64(keys.count)))]
                : Self.keys[Int(random.next(upTo: UInt64(Self.keys.count)))]
            guard repeatOne || !keys.contains(key) else { continue }
            keys.append(key)
            parts.append("\"\(key)\" : \(values[Int(random.next(upTo: UInt64(values.count)))])")
        }
        var text = " {" + parts.joined(separator: ",") + "} "
        switch random.next(upTo: 12) {
        case 0: text += "x"
        case 1: text = String(text.dropLast(2))
        case 2: text = "[" + text + "]"
        default: break
        }
        return (text, keys)
    }

    /// A key as written in the text (escapes and all), as the reader gives it back.
    static func decoded(_ key: String) -> String {
        guard case .string(let text)? = try? JSONReader.parse(Array("\"\(key)\"".utf8)) else { return "?" }
        return text
    }

    @Test("random objects: accepted and refused alike, same value for every key, members in order")
    func agreesWithDictionary() throws {
        var random = SplitMix(seed: 0x3E3B_E125)
        var accepted = 0
        var refusedDuplicates = 0
        for _ in 0..<5_000 {
            let (text, keys) = Self.randomObject(&random)
            let bytes = Array(text.utf8)
            let object = try? JSONReader.object(bytes)
            let members = try? JSONReader.members(bytes)
            #expect((object == nil) == (members == nil), "\(text)")
            guard let object, let members else {
                if Set(keys).count < keys.count { refusedDuplicates += 1 }
                continue
            }
            accepted += 1
            #expect(members.members.map(\.key) == keys.map(Self.decoded), "members out of document order: \(text)")
            #expect(members.members.count == object.count)
            for (key, value) in object { #expect(members[key] == value, "\(key) in \(text)") }
            #expect(members["absent-key"] == nil)
        }
        #expect(
            accepted > 1_000 && refusedDuplicates > 100, "accepted \(accepted), duplicates refused \(refusedDuplicates)"
        )
    }

    /// Keys spelled differently in bytes but equal as Swift strings (an "é" of one code point
    /// and of "e" plus a combining accent) are one key of the dictionary an object becomes:
    /// a repeated key, refused by both readers whatever the object's size. A reader that
    /// compared their byte lengths first took them as two keys, and building the dictionary
    /// then stopped the process (a request body could do it).
    @Test("canonically equal keys of different byte lengths are a repeated key, in small and large objects")
    func canonicallyEqualKeysRepeat() {
        let composed = "\u{E9}"  // é, two bytes of UTF-8
        let decomposed = "e\u{301}"  // e and a combining acute accent, three bytes
        #expect(composed == decomposed && composed.utf8.count != decomposed.utf8.count)
        for others in [0, 3, 15, 16, 30] {
            let filler = (0..<others).map { "\"f\($0)\":\($0)" }
            for (first, second) in [(composed, decomposed), (decomposed, composed)] {
                let text = "{" + (filler + ["\"\(first)\":1", "\"\(second)\":2"]).joined(separator: ",") + "}"
                let bytes = Array(text.utf8)
                #expect(throws: JSONReader.Failure.self, "\(others) other members") { try JSONReader.members(bytes) }
                #expect(throws: JSONReader.Failure.self, "\(others) other members") { try JSONReader.object(bytes) }
                let nested = Array(("{\"a\":" + text + "}").utf8)
                #expect(throws: JSONReader.Failure.self, "nested, \(others) other members") {
                    try JSONReader.parse(nested)
                }
            }
        }
    }
}
