/// Parses JSON into ``JSONValue`` without Foundation: rebuilds decode every event of the
/// log, so this is on the hot path of `botrix rebuild`.
public enum JSONReader {
    public struct Failure: Error, CustomStringConvertible {
        public var offset: Int
        public var reason = "malformed JSON"
        public var description: String { "\(reason) near byte \(offset)" }
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try whole(bytes) { try $0.value(depth: 0) }
    }

    /// What `read` takes from the start of `bytes`, which must be all of them but spaces.
    private static func whole<T>(_ bytes: [UInt8], _ read: (inout Parser) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer)
            let value = try read(&parser)
            parser.skipSpace()
            guard parser.index == buffer.count else { throw Failure(offset: parser.index) }
            return value
        }
    }

    /// The bytes as a JSON object.
    public static func object(_ bytes: [UInt8]) throws -> JSONObject {
        guard case .object(let object) = try parse(bytes) else { throw Failure(offset: 0) }
        return object
    }

    /// The bytes as a JSON object's members, in document order (see ``JSONMembers``).
    /// Accepts and refuses exactly what ``object(_:)`` does.
    public static func members(_ bytes: [UInt8]) throws -> JSONMembers {
        JSONMembers(members: try whole(bytes) { try $0.members(depth: 0) })
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        /// An object's members in order, the object's values parsed as usual; a repeated key
        /// is refused, since readers disagree on which value wins (checked by a scan while the
        /// object is small, then by a set). ``value(depth:)`` reads its objects through this.
        mutating func members(depth: Int) throws -> [JSONMember] {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw Failure(offset: index) }
            index += 1
            var members: [JSONMember] = []
            // An event's payload has up to a dozen members: one allocation instead of five.
            members.reserveCapacity(16)
            var seen: Set<String> = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return members
            }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                let repeated: Bool
                if members.count < 16 {
                    // Swift's `==`, as the set below and the dictionary `value` builds: keys that
                    // are canonically equivalent (an "é" of one code point and of two) are one
                    // key there, so they must be a repeat here, whatever their byte lengths.
                    repeated = members.contains { $0.key == key }
                } else {
                    if seen.isEmpty { seen = Set(members.map(\.key)) }
                    repeated = !seen.insert(key).inserted
                }
                guard !repeated else { throw Failure(offset: index, reason: "duplicate key \"\(key)\"") }
                members.append(JSONMember(key: key, value: try value(depth: depth + 1)))
                skipSpace()
                if try separator(close: UInt8(ascii: "}")) { return members }
            }
        }

        mutating func skipSpace() {
            while index < bytes.count,
                bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
            {
                index += 1
            }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 64 else { throw Failure(offset: index) }
            skipSpace()
            guard index < bytes.count else { throw Failure(offset: index) }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                // `members` refuses a repeated key, so the keys are unique here.
                return .object(
                    JSONObject(uniqueKeysWithValues: try members(depth: depth).lazy.map { ($0.key, $0.value) }))
            case UInt8(ascii: "["):
                index += 1
                var array: [JSONValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(array)
                }
                while true {
                    array.append(try value(depth: depth + 1))
                    skipSpace()
                    if try separator(close: UInt8(ascii: "]")) { return .array(array) }
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return try number()
            }
        }

        /// After a member: true at the closing bracket, false after a comma.
        mutating func separator(close: UInt8) throws -> Bool {
            guard index < bytes.count else { throw Failure(offset: index) }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                return false
            }
            try expect(close)
            return true
        }

        mutating func expect(_ byte: UInt8) throws {
            guard index < bytes.count, bytes[index] == byte else { throw Failure(offset: index) }
            index += 1
        }

        mutating func literal(_ word: String) throws {
            for byte in word.utf8 { try expect(byte) }
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw Failure(offset: index) }
                index += 1
            }
            var scalars = Array(bytes[start..<index])
            while index < bytes.count {
                let c = bytes[index]
                index += 1
                switch c {
                case UInt8(ascii: "\""): return String(decoding: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Failure(offset: index) }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(e)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            try expect(UInt8(ascii: "\\"))
                            try expect(UInt8(ascii: "u"))
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw Failure(offset: index) }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw Failure(offset: index) }
                        scalars += Array(String(Character(scalar)).utf8)
                    default: throw Failure(offset: index)
                    }
                case 0..<0x20: throw Failure(offset: index)
                default: scalars.append(c)
                }
            }
            throw Failure(offset: index)
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw Failure(offset: index) }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                index += 1
                let digit: UInt32
                switch c {
                case 48...57: digit = UInt32(c - 48)
                case 65...70: digit = UInt32(c - 55)
                case 97...102: digit = UInt32(c - 87)
                default: throw Failure(offset: index)
                }
                value = value << 4 | digit
            }
            return value
        }

        /// RFC 8259's number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
        /// Anything else (`+1`, `01`, `.5`, `1.`, `1e`) is malformed, not read leniently.
        mutating func number() throws -> JSONValue {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 else { throw Failure(offset: start) }
            if bytes[index] == 48 {
                index += 1
                if index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 { throw Failure(offset: start) }
            } else {
                _ = digits()
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard digits() > 0 else { throw Failure(offset: start) }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard digits() > 0 else { throw Failure(offset: start) }
            }
            // An integer of at most 18 digits cannot overflow: added up here, without making
            // the text a `String` and parsing it again. Longer ones (and the rest) as before.
            let negative = bytes[start] == UInt8(ascii: "-")
            if isInteger, index - start - (negative ? 1 : 0) <= 18 {
                var magnitude: Int64 = 0
                for digit in bytes[(negative ? start + 1 : start)..<index] {
                    magnitude = magnitude * 10 + Int64(digit - 48)
                }
                return .int(negative ? -magnitude : magnitude)
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let value = Int64(text) { return .int(value) }
            guard let value = Double(text), value.isFinite else { throw Failure(offset: start) }
            return .double(value)
        }
    }
}
