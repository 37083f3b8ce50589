public import Foundation

/// Lowercase UUID text without Foundation's formatter and parser (snprintf / sscanf
/// underneath): every event names its job, so this runs once per event in a rebuild.
enum UUIDText {
    private static let digits = Array("0123456789abcdef".utf8)

    static func format(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { raw in
            var out = [UInt8]()
            out.reserveCapacity(36)
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 15)])
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func parse(_ text: String) -> UUID? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36, utf8[8] == 45, utf8[13] == 45, utf8[18] == 45, utf8[23] == 45 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        var index = 0
        while index < 36 {
            if index == 8 || index == 13 || index == 18 || index == 23 { index += 1 }
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        let b = bytes
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}

extension UUID {
    /// The lowercase spelling used in ids, URLs, streams and messages.
    public var text: String { UUIDText.format(self) }

    /// Parses either case; nil for anything that is not a UUID.
    public init?(text: String) {
        guard let parsed = UUIDText.parse(text) else { return nil }
        self = parsed
    }
}
