/// Small JSON writing helpers for the log's own output: the public event shape is built
/// from stored bytes without a decode/encode round trip, and so stays byte-stable.
public enum JSONText {
    /// Appends `text` as a JSON string literal, escaped per RFC 8259. Every view the API
    /// renders goes through here, field by field, so runs of bytes that need no escape are
    /// copied whole rather than byte by byte.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendString(utf8: $0, to: &out) }
    }

    /// Appends the string whose UTF-8 is `utf8` (which must be valid UTF-8: stored text
    /// read in place, as rows written from a `String` hold) as a JSON string literal.
    public static func appendString(utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            appendEscaped(byte, to: &out)
            runStart = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        out.append(UInt8(ascii: "\""))
    }

    /// The escape of a quote, a backslash or a control character.
    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
        case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
        case 0x0A: out.append(contentsOf: [92, 110])
        case 0x0D: out.append(contentsOf: [92, 114])
        case 0x09: out.append(contentsOf: [92, 116])
        default:
            out.append(contentsOf: [92, 117, 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `value` in decimal, as `"\(value)"` writes it, without making a string.
    public static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // The magnitude as unsigned, so Int64.min needs no special case; 20 digits at most,
        // written from the end of a scratch buffer on the stack.
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// True when `a`'s UTF-8 bytes sort before `b`'s (the order object keys are written in).
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let contiguous = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for index in 0..<min(x.count, y.count) where x[index] != y[index] { return x[index] < y[index] }
                return x.count < y.count
            }
        }
        return (contiguous ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Lower-case hexadecimal, as hashes are shown.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
