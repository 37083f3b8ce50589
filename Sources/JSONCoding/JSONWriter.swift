/// Writes JSON objects with sorted keys, by hand: stored event data must be byte-stable
/// (it is hashed), and Foundation's encoder costs more than the rest of a command.
public struct JSONObjectWriter {
    /// The object so far, from its `{`: each field is written here once, as it is added.
    private var out: [UInt8] = []
    /// Each field's key and the bytes of its `"key":value` in `out`, for the sort that a
    /// key added out of order needs.
    private var fields: [(key: String, start: Int, end: Int)] = []
    /// True while every key was greater than the one before (then `out` is the answer).
    private var ordered = true

    /// Room for a typical view's bytes and fields up front, so writing one does not grow
    /// the buffers field by field.
    public init() {
        out.reserveCapacity(512)
        out.append(UInt8(ascii: "{"))
        fields.reserveCapacity(24)
    }

    public mutating func string(_ key: String, _ value: String) {
        field(key) { JSONText.appendString(value, to: &$0) }
    }
    public mutating func string(_ key: String, _ value: String?) { if let value { string(key, value) } }
    public mutating func int<T: BinaryInteger>(_ key: String, _ value: T) {
        field(key) { out in
            if let value = Int64(exactly: value) {
                JSONText.appendInt(value, to: &out)
            } else {
                out.append(contentsOf: "\(value)".utf8)
            }
        }
    }
    public mutating func int<T: BinaryInteger>(_ key: String, _ value: T?) { if let value { int(key, value) } }
    public mutating func bool(_ key: String, _ value: Bool) {
        field(key) { $0.append(contentsOf: (value ? "true" : "false").utf8) }
    }
    public mutating func value(_ key: String, _ value: JSONValue) {
        field(key) { $0.append(contentsOf: JSONWriting.value(value)) }
    }
    public mutating func object(_ key: String, _ value: JSONObject?) {
        if let value { field(key) { $0.append(contentsOf: JSONWriting.value(.object(value))) } }
    }
    /// A field whose value is already JSON (a nested object written elsewhere).
    public mutating func raw(_ key: String, _ json: [UInt8]) { field(key) { $0.append(contentsOf: json) } }
    public mutating func null(_ key: String) { field(key) { $0.append(contentsOf: "null".utf8) } }

    /// Writes `"key":` and then the value, straight into the object's bytes.
    private mutating func field(_ key: String, _ writeValue: (inout [UInt8]) -> Void) {
        if ordered, let last = fields.last, !JSONText.precedes(last.key, key) { ordered = false }
        if !fields.isEmpty { out.append(UInt8(ascii: ",")) }
        let start = out.count
        JSONText.appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        writeValue(&out)
        fields.append((key, start, out.count))
    }

    /// The object, keys in byte order. Fields added in order (as every view's writer adds
    /// them) are already in place; otherwise they are reordered, equal keys keeping the
    /// order they were added in.
    public func bytes() -> [UInt8] {
        if ordered {
            var object = out
            object.append(UInt8(ascii: "}"))
            return object
        }
        let order = fields.indices.sorted { a, b in
            let (x, y) = (fields[a].key, fields[b].key)
            return JSONText.precedes(x, y) || (!JSONText.precedes(y, x) && a < b)
        }
        var sorted: [UInt8] = [UInt8(ascii: "{")]
        sorted.reserveCapacity(out.count + 1)
        for (position, index) in order.enumerated() {
            if position > 0 { sorted.append(UInt8(ascii: ",")) }
            sorted.append(contentsOf: out[fields[index].start..<fields[index].end])
        }
        sorted.append(UInt8(ascii: "}"))
        return sorted
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
