/// Reads stored metadata (a JSON object of strings, as `RecordFormat.encodeMetadata`
/// writes it) without Foundation: every event read decodes it.
enum MetadataCoding {
    static func decode(_ bytes: [UInt8]) -> [String: String]? {
        if bytes == [123, 125] { return [:] }  // "{}"
        var index = 0
        var out: [String: String] = [:]
        func skip() {
            while index < bytes.count,
                bytes[index] == 32 || bytes[index] == 10 || bytes[index] == 13 || bytes[index] == 9
            { index += 1 }
        }
        func expect(_ c: UInt8) -> Bool {
            skip()
            guard index < bytes.count, bytes[index] == c else { return false }
            index += 1
            return true
        }
        func string() -> String? {
            guard expect(34) else { return nil }
            var scalars: [UInt8] = []
            while index < bytes.count {
                let c = bytes[index]
                index += 1
                if c == 34 { return String(decoding: scalars, as: UTF8.self) }
                if c != 92 {
                    scalars.append(c)
                    continue
                }
                guard index < bytes.count else { return nil }
                let e = bytes[index]
                index += 1
                switch e {
                case 34, 92, 47: scalars.append(e)
                case 98: scalars.append(8)
                case 102: scalars.append(12)
                case 110: scalars.append(10)
                case 114: scalars.append(13)
                case 116: scalars.append(9)
                case 117:
                    guard index + 4 <= bytes.count,
                        let code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { return nil }
                    index += 4
                    scalars += Array(String(Character(scalar)).utf8)
                default: return nil
                }
            }
            return nil
        }
        guard expect(123) else { return nil }
        if expect(125) { return out }
        while true {
            guard let key = string(), expect(58), let value = string() else { return nil }
            out[key] = value
            if expect(44) { continue }
            return expect(125)
                && {
                    skip(); return index == bytes.count
                }() ? out : nil
        }
    }
}
