import Foundation

/// Request bodies as the API reads them: JSON with sorted keys (the server hashes the
/// body's JSON for idempotency, and a stable form makes a replay byte-for-byte the same).
enum JSONBody {
    /// `value` encoded as JSON; a value that cannot be encoded is `BotrixError.invalidRequest`.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw BotrixError.invalidRequest("cannot encode the request body: \(error)")
        }
    }

    /// `text` cut to at most `maxBytes` bytes of UTF-8 on a character boundary (the
    /// server counts text limits in UTF-8 bytes).
    static func truncated(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > maxBytes { break }
            result.append(character)
            used += size
        }
        return result
    }
}

/// Path segments and query values percent-encoded (RFC 3986 unreserved characters kept).
enum URLText {
    static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += byte < 16 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return result
    }

    /// `?a=1&b=2` from the pairs whose value is not nil; empty when none is left.
    static func query(_ pairs: [(String, String?)]) -> String {
        let present = pairs.compactMap { name, value in value.map { "\(escape(name))=\(escape($0))" } }
        return present.isEmpty ? "" : "?" + present.joined(separator: "&")
    }
}
