import Botrix
import EventLog
import Foundation
import JSONCoding

/// How the dashboard writes numbers, durations and event data for people.
enum DashboardFormat {
    /// Field names whose values are secrets wherever they appear in event data or account
    /// data: they are dropped before anything is rendered, not masked.
    static let secretFields: Set<String> = ["password", "verification_code"]

    /// "4 s", "3 min 20 s", "2 h 5 min", "3 d 4 h".
    static func duration(seconds value: Double) -> String {
        let s = Int(max(0, value).rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" + (s % 60 == 0 ? "" : " \(s % 60) s") }
        if s < 86_400 { return "\(s / 3600) h" + (s % 3600 / 60 == 0 ? "" : " \(s % 3600 / 60) min") }
        return "\(s / 86_400) d" + (s % 86_400 / 3600 == 0 ? "" : " \(s % 86_400 / 3600) h")
    }

    /// Seconds from now until an RFC 3339 time ("expired" when past).
    static func timeLeft(until text: String?, nowMilliseconds: Int64) -> String {
        guard let text, let end = Timestamp.parse(text) else { return "—" }
        guard end > nowMilliseconds else { return "expired" }
        return duration(seconds: Double(end - nowMilliseconds) / 1000)
    }

    /// A rate with one decimal below 10 and none above.
    static func rate(_ value: Double) -> String {
        value < 10 ? String(format: "%.1f", value) : String(Int(value.rounded()))
    }

    static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// The first 12 hex digits of a hash.
    static func shortHash(_ bytes: [UInt8]) -> String { JSONText.hex(Array(bytes.prefix(6))) }

    static func shortID(_ id: UUID) -> String { String(id.text.prefix(8)) }

    /// Event or account data as indented JSON with sorted keys and every secret field
    /// dropped; nil for an empty object.
    static func data(_ bytes: [UInt8]) -> String? {
        guard let value = try? JSONReader.parse(bytes) else { return nil }
        return data(value)
    }

    static func data(_ value: JSONValue) -> String? {
        let redacted = redact(value)
        if case .object(let fields) = redacted, fields.isEmpty { return nil }
        var out = ""
        write(redacted, indent: 0, into: &out)
        return out
    }

    static func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            var kept: [String: JSONValue] = [:]
            for (name, field) in fields where !secretFields.contains(name.lowercased()) { kept[name] = redact(field) }
            return .object(kept)
        case .array(let items):
            return .array(items.map(redact))
        default:
            return value
        }
    }

    private static func write(_ value: JSONValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        switch value {
        case .object(let fields):
            guard !fields.isEmpty else {
                out += "{}"
                return
            }
            out += "{\n"
            for (index, name) in fields.keys.sorted().enumerated() {
                out += pad + String(decoding: JSONWriting.string(name), as: UTF8.self) + ": "
                write(fields[name]!, indent: indent + 1, into: &out)
                out += index == fields.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        case .array(let items):
            guard !items.isEmpty else {
                out += "[]"
                return
            }
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                write(item, indent: indent + 1, into: &out)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "]"
        default:
            out += String(decoding: JSONWriting.value(value), as: UTF8.self)
        }
    }
}
