/// Integer keys are stored big-endian so LMDB's byte order equals numeric order,
/// which is what makes cursor scans and `MDB_APPEND` on sequence numbers work.
public enum BigEndian {
    /// Eight bytes, most significant first.
    @inlinable
    public static func bytes(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// Appends eight big-endian bytes of `value` to `buffer`.
    @inlinable
    public static func append(_ value: UInt64, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    /// Reads a big-endian `UInt64` at `offset`; nil when fewer than eight bytes remain.
    @inlinable
    public static func uint64(_ bytes: some Collection<UInt8>, at offset: Int = 0) -> UInt64? {
        guard bytes.count >= offset + 8 else { return nil }
        var value: UInt64 = 0
        var index = bytes.index(bytes.startIndex, offsetBy: offset)
        for _ in 0..<8 {
            value = value << 8 | UInt64(bytes[index])
            index = bytes.index(after: index)
        }
        return value
    }
}
