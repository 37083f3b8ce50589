import CCryptoBoringSSL
import Foundation
import JSONCoding

/// The on-disk record, format 1 (see `schemas/event-record.md`). Binary and
/// length-prefixed so decoding never guesses, and hashed as stored so `verify` needs no
/// canonical re-encoding. All integers are big-endian.
///
/// ```
/// u8  format (1)        u64 sequence        u64 stream version   i64 recorded_at (ms)
/// [32] previous hash    [32] hash
/// u16 stream length + UTF-8    u16 type length + UTF-8
/// u32 data length + JSON       u32 metadata length + JSON (object of strings, sorted keys)
/// ```
/// `hash` = SHA-256 of every byte of the record except the 32 bytes of `hash` itself.
enum RecordFormat {
    static let version: UInt8 = 1
    static let hashOffset = 57
    static let headerSize = 89

    /// The encoded size of a record, known before encoding it.
    static func encodedSize(stream: String, type: String, data: [UInt8], metadataJSON: [UInt8]) -> Int {
        headerSize + 2 + stream.utf8.count + 2 + type.utf8.count + 4 + data.count + 4 + metadataJSON.count
    }

    /// Encodes a record and fills in its hash, into a new array (tests and tools; the log
    /// encodes in place with ``encode(sequence:stream:version:type:recordedAt:data:metadataJSON:previousHash:into:)``).
    static func encode(
        sequence: UInt64, stream: String, version streamVersion: UInt64, type: String,
        recordedAt: Int64, data: [UInt8], metadataJSON: [UInt8], previousHash: [UInt8]
    ) -> (bytes: [UInt8], hash: [UInt8]) {
        let size = encodedSize(stream: stream, type: type, data: data, metadataJSON: metadataJSON)
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            previousHash.withUnsafeBytes { previousHash in
                encode(
                    sequence: sequence, stream: stream, version: streamVersion, type: type, recordedAt: recordedAt,
                    data: data, metadataJSON: metadataJSON, previousHash: previousHash,
                    into: UnsafeMutableRawBufferPointer(buffer))
            }
            count = size
        }
        return (bytes, Array(bytes[hashOffset..<(hashOffset + 32)]))
    }

    /// Encodes a record and fills in its hash, into `record`, which must be exactly
    /// ``encodedSize(stream:type:data:metadataJSON:)`` bytes (checked before anything is written). The writer thread runs this for
    /// every event while it holds LMDB's write lock, on the room LMDB reserved in the page
    /// for the row (``Appender/append(key:reserving:fill:)``), so it writes the fields
    /// straight into place (no buffer of its own, no copy) and the digest straight into its
    /// field.
    static func encode(
        sequence: UInt64, stream: String, version streamVersion: UInt64, type: String,
        recordedAt: Int64, data: [UInt8], metadataJSON: [UInt8], previousHash: UnsafeRawBufferPointer,
        into record: UnsafeMutableRawBufferPointer
    ) {
        precondition(previousHash.count == 32, "a previous hash is 32 bytes")
        var stream = stream
        var type = type
        // Checked before the first byte is written: the room is a page of LMDB's, and a
        // record longer than it would write past it.
        let size = encodedSize(stream: stream, type: type, data: data, metadataJSON: metadataJSON)
        precondition(record.count == size, "the record's room is not its encoded size")
        var writer = FieldWriter(base: record.baseAddress!)
        writer.byte(version)
        writer.integer(sequence)
        writer.integer(streamVersion)
        writer.integer(UInt64(bitPattern: recordedAt))
        writer.raw(previousHash)
        writer.zeros(32)
        writer.integer(UInt16(stream.utf8.count))
        stream.withUTF8 { writer.raw(UnsafeRawBufferPointer($0)) }
        writer.integer(UInt16(type.utf8.count))
        type.withUTF8 { writer.raw(UnsafeRawBufferPointer($0)) }
        writer.integer(UInt32(data.count))
        writer.bytes(data)
        writer.integer(UInt32(metadataJSON.count))
        writer.bytes(metadataJSON)
        precondition(writer.offset == size, "encodedSize and encode disagree")
        hashDigest(UnsafeRawBufferPointer(record), into: record.baseAddress! + hashOffset)
    }

    /// The hash a record *should* carry, computed from its bytes.
    static func computeHash(_ record: [UInt8]) -> [UInt8] {
        record.withUnsafeBytes { computeHash($0) }
    }

    /// The hash of a record read in place from the map.
    static func computeHash(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        guard raw.count >= headerSize else { return [] }
        return [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
            hashDigest(raw, into: UnsafeMutableRawPointer(digest.baseAddress!))
            count = 32
        }
    }

    /// SHA-256 of every byte but the hash field's 32 (the record must hold a full header),
    /// written to the 32 bytes at `digest` (which may be the record's own hash field: that
    /// field is not read).
    ///
    /// BoringSSL's SHA-256 with its context on the stack. swift-crypto's `SHA256` (the same
    /// BoringSSL code underneath) allocates a context object per hash and returns a digest to
    /// copy out: on the writer thread, which hashes every event while it holds LMDB's write
    /// lock, that wrapper was 40% of the hashing time (`perf`, README "Performance").
    /// `RecordEncodingTests` checks every hash against swift-crypto's `SHA256`.
    private static func hashDigest(_ raw: UnsafeRawBufferPointer, into digest: UnsafeMutableRawPointer) {
        let base = raw.baseAddress!
        var context = SHA256_CTX()
        CCryptoBoringSSL_SHA256_Init(&context)
        CCryptoBoringSSL_SHA256_Update(&context, base, hashOffset)
        CCryptoBoringSSL_SHA256_Update(&context, base + hashOffset + 32, raw.count - hashOffset - 32)
        CCryptoBoringSSL_SHA256_Final(digest.assumingMemoryBound(to: UInt8.self), &context)
    }

    /// Decodes a stored record; `sequence` is its key, used in error messages. With
    /// `fields` ``RecordFields/forProjections`` the hashes and the metadata are stepped over
    /// (left empty); the record's layout is still checked to its end.
    static func decode(
        _ raw: UnsafeRawBufferPointer, sequence: UInt64, fields: RecordFields = .all
    ) throws -> RecordedEvent {
        var reader = ByteReader(raw, sequence: sequence)
        let format = try reader.integer(UInt8.self)
        guard format == version else { throw EventLogError.unsupportedFormat(version: format, sequence: sequence) }
        let storedSequence = try reader.integer(UInt64.self)
        let streamVersion = try reader.integer(UInt64.self)
        let recordedAt = Int64(bitPattern: try reader.integer(UInt64.self))
        let all = fields == .all
        let previousHash = try reader.bytes(32, keep: all)
        let hash = try reader.bytes(32, keep: all)
        let stream = try reader.string(length: Int(try reader.integer(UInt16.self)))
        let type = try reader.string(length: Int(try reader.integer(UInt16.self)))
        let data = try reader.bytes(Int(try reader.integer(UInt32.self)))
        let metadataJSON = try reader.bytes(Int(try reader.integer(UInt32.self)), keep: all)
        guard reader.isAtEnd else { throw EventLogError.corruptRecord(sequence: sequence, reason: "trailing bytes") }
        guard let metadata = all ? MetadataCoding.decode(metadataJSON) : [:] else {
            throw EventLogError.corruptRecord(sequence: sequence, reason: "metadata is not a JSON object of strings")
        }
        return RecordedEvent(
            sequence: storedSequence, stream: stream, version: streamVersion, type: type, recordedAt: recordedAt,
            data: data, metadata: metadata, previousHash: previousHash, hash: hash)
    }

    /// Metadata as stored: a JSON object with sorted keys, so equal metadata hashes equally.
    static func encodeMetadata(_ metadata: [String: String]) -> [UInt8] {
        if metadata.isEmpty { return Array("{}".utf8) }
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONText.appendString(metadata[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

}

/// Writes a record's fields into a buffer already sized for them, front to back.
private struct FieldWriter {
    let base: UnsafeMutableRawPointer
    var offset = 0

    mutating func byte(_ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    /// Big-endian, like every integer of the format.
    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { raw($0) }
    }

    mutating func bytes(_ value: [UInt8]) {
        value.withUnsafeBytes { raw($0) }
    }

    mutating func raw(_ value: UnsafeRawBufferPointer) {
        guard let source = value.baseAddress, !value.isEmpty else { return }
        (base + offset).copyMemory(from: source, byteCount: value.count)
        offset += value.count
    }

    mutating func zeros(_ count: Int) {
        (base + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
        offset += count
    }
}

/// Reads a record front to back, turning a short read into a precise error.
private struct ByteReader {
    let raw: UnsafeRawBufferPointer
    let sequence: UInt64
    var offset = 0

    init(_ raw: UnsafeRawBufferPointer, sequence: UInt64) {
        self.raw = raw
        self.sequence = sequence
    }

    var isAtEnd: Bool { offset == raw.count }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size)
        var value: T = 0
        for byte in raw[offset..<(offset + size)] { value = value << 8 | T(byte) }
        offset += size
        return value
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        try need(count)
        defer { offset += count }
        return Array(raw[offset..<(offset + count)])
    }

    /// The next `count` bytes, or, unless `keep`, none: the field is stepped over and reads
    /// as empty.
    mutating func bytes(_ count: Int, keep: Bool) throws -> [UInt8] {
        guard !keep else { return try bytes(count) }
        try need(count)
        offset += count
        return []
    }

    /// A UTF-8 name, validated straight from the record's bytes (no intermediate array).
    mutating func string(length: Int) throws -> String {
        try need(length)
        let slice = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
        offset += length
        let text = slice.withMemoryRebound(to: UInt8.self) { String(validating: $0, as: UTF8.self) }
        guard let text else {
            throw EventLogError.corruptRecord(sequence: sequence, reason: "a name is not valid UTF-8")
        }
        return text
    }

    private func need(_ count: Int) throws {
        guard offset + count <= raw.count else {
            throw EventLogError.corruptRecord(
                sequence: sequence, reason: "record ends at byte \(raw.count), field needs \(offset + count)")
        }
    }
}
