public import Foundation

/// Lowercase UUID text without Foundation's formatter and parser (snprintf / sscanf
/// underneath): every event names its job, so this runs once per event in a rebuild.
enum UUIDText {
    private static let digits = Array("0123456789abcdef".utf8)

    static func format(_ id: UUID) -> String {
        String(unsafeUninitializedCapacity: 36) { out in
            write(id, into: out)
            return 36
        }
    }

    /// Whether `text` is ``format(_:)`` of `id` (lowercase, as streams spell it), spelled
    /// on the stack rather than into a new string.
    static func spells(_ id: UUID, _ text: some Collection<UInt8>) -> Bool {
        guard text.count == 36 else { return false }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { spelled in
            write(id, into: spelled)
            return text.elementsEqual(spelled)
        }
    }

    /// Appends the 36 bytes of ``format(_:)`` to `out`.
    static func append(_ id: UUID, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { spelled in
            write(id, into: spelled)
            out.append(contentsOf: spelled)
        }
    }

    /// The 36 bytes of ``format(_:)`` into `out`.
    private static func write(_ id: UUID, into out: UnsafeMutableBufferPointer<UInt8>) {
        withUnsafeBytes(of: id.uuid) { raw in
            var at = 0
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    out[at] = UInt8(ascii: "-")
                    at += 1
                }
                out[at] = digits[Int(byte >> 4)]
                out[at + 1] = digits[Int(byte & 15)]
                at += 2
            }
        }
    }

    static func parse(_ text: String) -> UUID? {
        var text = text
        return text.withUTF8 { utf8 -> UUID? in
            guard utf8.count == 36, utf8[8] == 45, utf8[13] == 45, utf8[18] == 45, utf8[23] == 45 else { return nil }
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let parsed = withUnsafeMutableBytes(of: &uuid) { bytes -> Bool in
                var index = 0
                for at in 0..<16 {
                    if index == 8 || index == 13 || index == 18 || index == 23 { index += 1 }
                    guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return false }
                    bytes[at] = high << 4 | low
                    index += 2
                }
                return true
            }
            return parsed ? UUID(uuid: uuid) : nil
        }
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
