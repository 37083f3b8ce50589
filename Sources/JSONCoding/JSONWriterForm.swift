/// Recognizes text that is exactly what ``JSONWriting/value(_:)`` writes for what it holds,
/// so a reader may serve stored JSON as it is instead of parsing and writing it again.
///
/// It is deliberately narrow: it says yes only for ASCII text with no space outside strings,
/// keys without escapes in strictly increasing byte order (which also rules out repeats),
/// strings escaped the writer's way, integers that fit `Int64` (not `-0`), `true`, `false`,
/// `null`, and nesting under 16 levels. Anything else — other numbers, non-ASCII text, a
/// damaged row — gets no, and the caller takes the parse-and-write path, which refuses or
/// tidies it. A yes must never be wrong; a no only costs time.
public enum JSONWriterForm {
    /// Whether `bytes` is an object in the writer's own form.
    public static func isObject(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = Scanner(bytes: bytes)
        guard scanner.peek == UInt8(ascii: "{"), scanner.value(depth: 0) else { return false }
        return scanner.index == bytes.count
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        static let maximumDepth = 16

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maximumDepth, let c = peek else { return false }
            switch c {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string(key: false) != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return integer()
            }
        }

        mutating func object(depth: Int) -> Bool {
            index += 1
            if take(UInt8(ascii: "}")) { return true }
            var previous: Range<Int>?
            repeat {
                guard let key = string(key: true) else { return false }
                if let previous {
                    let before = UnsafeBufferPointer(rebasing: bytes[previous])
                    guard before.lexicographicallyPrecedes(UnsafeBufferPointer(rebasing: bytes[key])) else {
                        return false
                    }
                }
                previous = key
                guard take(UInt8(ascii: ":")), value(depth: depth + 1) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        mutating func array(depth: Int) -> Bool {
            index += 1
            if take(UInt8(ascii: "]")) { return true }
            repeat {
                guard value(depth: depth + 1) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]"))
        }

        /// A string's contents (between the quotes) when written the writer's way; keys may
        /// hold no escape at all, so their bytes are the key's own.
        mutating func string(key: Bool) -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while let c = peek {
                switch c {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"):
                    guard !key, escape() else { return nil }
                case 0x20..<0x80:
                    index += 1
                default:
                    return nil  // a control byte, or non-ASCII text (left to the parser)
                }
            }
            return nil
        }

        /// `\"`, `\\`, `\n`, `\r`, `\t`, or `\u00xx` (lowercase) for another control byte:
        /// the writer's escapes and no others.
        mutating func escape() -> Bool {
            guard index + 1 < bytes.count else { return false }
            switch bytes[index + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 2
                return true
            case UInt8(ascii: "u"):
                guard index + 5 < bytes.count, bytes[index + 2] == UInt8(ascii: "0"),
                    bytes[index + 3] == UInt8(ascii: "0")
                else { return false }
                let high = bytes[index + 4]
                let low = bytes[index + 5]
                guard high == UInt8(ascii: "0") || high == UInt8(ascii: "1") else { return false }
                guard
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(low)
                        || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(low)
                else { return false }
                let code = (high - UInt8(ascii: "0")) << 4 | (low <= UInt8(ascii: "9") ? low - 48 : low - 87)
                guard code != 0x0A, code != 0x0D, code != 0x09 else { return false }
                index += 6
                return true
            default:
                return false
            }
        }

        /// `-?(0|[1-9][0-9]*)` within `Int64`, not `-0`; fractions and exponents get no.
        mutating func integer() -> Bool {
            let negative = take(UInt8(ascii: "-"))
            let start = index
            var value: Int64 = 0
            while let c = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let digit = Int64(c - UInt8(ascii: "0"))
                let (next, overflow2) =
                    negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !overflow, !overflow2 else { return false }
                value = next
                index += 1
            }
            let digits = index - start
            guard digits > 0, bytes[start] != UInt8(ascii: "0") || digits == 1, !(negative && value == 0) else {
                return false
            }
            if let c = peek, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return false }
            return true
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let same = word.withUTF8Buffer {
                UnsafeBufferPointer(rebasing: bytes[index..<(index + count)]).elementsEqual($0)
            }
            index += count
            return same
        }
    }
}
