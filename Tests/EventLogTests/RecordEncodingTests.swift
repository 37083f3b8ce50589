import Crypto
import TestSupport
import Testing

@testable import EventLog

/// The record encoder writes fields straight into a buffer of the final size; these tests
/// hold it to the format written out the plain way (append field by field, hash with
/// swift-crypto), byte for byte, on random records.
@Suite("Record encoding")
struct RecordEncodingTests {
    @Test("random records: the direct encoder equals the field-by-field reference, hash included")
    func matchesReference() {
        var random = SplitMix(seed: 0x5EC0_4D)
        let names = ["s", "job-7", "stream-ünïcode", String(repeating: "n", count: 200), "a/b:c"]
        for _ in 0..<2_000 {
            let stream = names[Int(random.next(upTo: UInt64(names.count)))]
            let type = names[Int(random.next(upTo: UInt64(names.count)))]
            let data = (0..<Int(random.next(upTo: 700))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let metadata = (0..<Int(random.next(upTo: 50))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let previous = (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let sequence = random.next()
            let version = random.next()
            let recordedAt = Int64(bitPattern: random.next())
            let encoded = RecordFormat.encode(
                sequence: sequence, stream: stream, version: version, type: type, recordedAt: recordedAt,
                data: data, metadataJSON: metadata, previousHash: previous)
            let reference = Self.reference(
                sequence: sequence, stream: stream, version: version, type: type, recordedAt: recordedAt,
                data: data, metadataJSON: metadata, previousHash: previous)
            #expect(encoded.bytes == reference.bytes)
            #expect(encoded.hash == reference.hash)
            #expect(
                encoded.bytes.count
                    == RecordFormat.encodedSize(stream: stream, type: type, data: data, metadataJSON: metadata))
            guard encoded.bytes == reference.bytes else { return }
        }
    }

    /// Format 1 built the obvious way: each field appended in order, the hash field zero
    /// while hashing, then filled in.
    static func reference(
        sequence: UInt64, stream: String, version: UInt64, type: String, recordedAt: Int64,
        data: [UInt8], metadataJSON: [UInt8], previousHash: [UInt8]
    ) -> (bytes: [UInt8], hash: [UInt8]) {
        func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
            (0..<MemoryLayout<T>.size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        }
        var bytes: [UInt8] = [1]
        bytes += bigEndian(sequence) + bigEndian(version) + bigEndian(UInt64(bitPattern: recordedAt))
        bytes += previousHash + [UInt8](repeating: 0, count: 32)
        bytes += bigEndian(UInt16(stream.utf8.count)) + Array(stream.utf8)
        bytes += bigEndian(UInt16(type.utf8.count)) + Array(type.utf8)
        bytes += bigEndian(UInt32(data.count)) + data
        bytes += bigEndian(UInt32(metadataJSON.count)) + metadataJSON
        let hash = Array(SHA256.hash(data: Array(bytes[0..<57]) + Array(bytes[89...])))
        bytes.replaceSubrange(57..<89, with: hash)
        return (bytes, hash)
    }
}
