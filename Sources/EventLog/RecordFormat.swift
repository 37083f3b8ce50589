import Crypto
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

    /// Encodes a record and fills in its hash.
    static func encode(
        sequence: UInt64, stream: String, version streamVersion: UInt64, type: String,
        recordedAt: Int64, data: [UInt8], metadataJSON: [UInt8], previousHash: [UInt8]
    ) -> (bytes: [UInt8], hash: [UInt8]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + 12 + stream.utf8.count + type.utf8.count + data.count + metadataJSON.count)
        bytes.append(version)
        appendInteger(sequence, to: &bytes)
        appendInteger(streamVersion, to: &bytes)
        appendInteger(UInt64(bitPattern: recordedAt), to: &bytes)
        bytes.append(contentsOf: previousHash)
        bytes.append(contentsOf: repeatElement(0, count: 32))
        appendInteger(UInt16(stream.utf8.count), to: &bytes)
        bytes.append(contentsOf: stream.utf8)
        appendInteger(UInt16(type.utf8.count), to: &bytes)
        bytes.append(contentsOf: type.utf8)
        appendInteger(UInt32(data.count), to: &bytes)
        bytes.append(contentsOf: data)
        appendInteger(UInt32(metadataJSON.count), to: &bytes)
        bytes.append(contentsOf: metadataJSON)
        let hash = computeHash(bytes)
        bytes.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<32 { buffer[hashOffset + index] = hash[index] }
        }
        return (bytes, hash)
    }

    /// The hash a record *should* carry, computed from its bytes.
    static func computeHash(_ record: [UInt8]) -> [UInt8] {
        record.withUnsafeBytes { computeHash($0) }
    }

    /// The hash of a record read in place from the map.
    static func computeHash(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        guard raw.count >= headerSize else { return [] }
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[0..<hashOffset]))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[(hashOffset + 32)...]))
        return hasher.finalize().withUnsafeBytes { [UInt8]($0) }
    }

    /// Decodes a stored record; `sequence` is its key, used in error messages.
    static func decode(_ raw: UnsafeRawBufferPointer, sequence: UInt64) throws -> RecordedEvent {
        var reader = ByteReader(raw, sequence: sequence)
        let format = try reader.integer(UInt8.self)
        guard format == version else { throw EventLogError.unsupportedFormat(version: format, sequence: sequence) }
        let storedSequence = try reader.integer(UInt64.self)
        let streamVersion = try reader.integer(UInt64.self)
        let recordedAt = Int64(bitPattern: try reader.integer(UInt64.self))
        let previousHash = try reader.bytes(32)
        let hash = try reader.bytes(32)
        let stream = try reader.string(length: Int(try reader.integer(UInt16.self)))
        let type = try reader.string(length: Int(try reader.integer(UInt16.self)))
        let data = try reader.bytes(Int(try reader.integer(UInt32.self)))
        let metadataJSON = try reader.bytes(Int(try reader.integer(UInt32.self)))
        guard reader.isAtEnd else { throw EventLogError.corruptRecord(sequence: sequence, reason: "trailing bytes") }
        guard let metadata = MetadataCoding.decode(metadataJSON) else {
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

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
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

    mutating func string(length: Int) throws -> String {
        let bytes = try bytes(length)
        guard let text = String(validating: bytes, as: UTF8.self) else {
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
