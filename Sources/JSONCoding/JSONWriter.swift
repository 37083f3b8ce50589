/// Writes JSON objects with sorted keys, by hand: stored event data must be byte-stable
/// (it is hashed), and Foundation's encoder costs more than the rest of a command.
public struct JSONObjectWriter {
    private var fields: [(key: String, value: [UInt8])] = []

    public init() {}

    public mutating func string(_ key: String, _ value: String) { fields.append((key, JSONWriting.string(value))) }
    public mutating func string(_ key: String, _ value: String?) { if let value { string(key, value) } }
    public mutating func int<T: BinaryInteger>(_ key: String, _ value: T) {
        fields.append((key, Array("\(value)".utf8)))
    }
    public mutating func int<T: BinaryInteger>(_ key: String, _ value: T?) { if let value { int(key, value) } }
    public mutating func bool(_ key: String, _ value: Bool) {
        fields.append((key, Array((value ? "true" : "false").utf8)))
    }
    public mutating func value(_ key: String, _ value: JSONValue) { fields.append((key, JSONWriting.value(value))) }
    public mutating func object(_ key: String, _ value: JSONObject?) {
        if let value { fields.append((key, JSONWriting.value(.object(value)))) }
    }
    /// A field whose value is already JSON (a nested object written elsewhere).
    public mutating func raw(_ key: String, _ json: [UInt8]) { fields.append((key, json)) }
    public mutating func null(_ key: String) { fields.append((key, Array("null".utf8))) }

    /// The object, keys in byte order (fields added in order skip the sort).
    public func bytes() -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.count + 4 })
        let ordered = zip(fields, fields.dropFirst()).allSatisfy { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
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

/// Scalar and nested JSON encodings shared by the writer.
public enum JSONWriting {
    /// `value` with exactly `decimals` digits after the point, without Foundation's
    /// formatter (which consults the locale on every call).
    public static func fixed(_ value: Double, decimals: Int) -> [UInt8] {
        guard value.isFinite else { return Array("null".utf8) }
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * Double(scale)).rounded())
        var text = value < 0 && scaled != 0 ? "-" : ""
        text += String(scaled / scale)
        if decimals > 0 {
            let fraction = String(scaled % scale)
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return Array(text.utf8)
    }

    /// `text` as a JSON string literal (``JSONText/appendString(_:to:)``, the one escaper).
    public static func string(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        JSONText.appendString(text, to: &out)
        return out
    }

    /// A JSON value, objects with sorted keys.
    public static func value(_ value: JSONValue) -> [UInt8] {
        switch value {
        case .null: return Array("null".utf8)
        case .bool(let b): return Array((b ? "true" : "false").utf8)
        case .int(let i): return Array("\(i)".utf8)
        case .double(let d): return Array((d.isFinite ? "\(d)" : "null").utf8)
        case .string(let s): return string(s)
        case .array(let items):
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += self.value(item)
            }
            out.append(UInt8(ascii: "]"))
            return out
        case .object(let object):
            var writer = JSONObjectWriter()
            for (key, item) in object { writer.value(key, item) }
            return writer.bytes()
        }
    }
}
