import TestSupport
import Testing

@testable import EventLog

/// A replay decodes records with ``RecordFields/forProjections``, which steps over the
/// hashes and the metadata: these tests hold it to the full decoder on every field a
/// projection reads, and to the same refusals of a damaged record.
@Suite("Record decoding")
struct RecordDecodingTests {
    /// A random record's stored bytes, with metadata valid or not.
    private static func record(_ random: inout SplitMix) -> (bytes: [UInt8], sequence: UInt64) {
        let names = ["s", "job-7", "stream-ünïcode", String(repeating: "n", count: 200), "a/b:c"]
        let stream = names[Int(random.next(upTo: UInt64(names.count)))]
        let type = names[Int(random.next(upTo: UInt64(names.count)))]
        let data = (0..<Int(random.next(upTo: 300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let metadata: [String: String] =
            random.next(upTo: 2) == 0 ? [:] : ["request_id": "r\(random.next())", "actor": "é\(random.next(upTo: 9))"]
        let sequence = random.next(upTo: 1 << 40) + 1
        let encoded = RecordFormat.encode(
            sequence: sequence, stream: stream, version: random.next(upTo: 1000), type: type,
            recordedAt: Int64(random.next(upTo: 1 << 42)), data: data,
            metadataJSON: RecordFormat.encodeMetadata(metadata),
            previousHash: (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        return (encoded.bytes, sequence)
    }

    private static func decode(_ bytes: [UInt8], _ sequence: UInt64, _ fields: RecordFields) -> Result<
        RecordedEvent, any Error
    > {
        Result { try bytes.withUnsafeBytes { try RecordFormat.decode($0, sequence: sequence, fields: fields) } }
    }

    @Test("for projections: every field a projection reads equals the full decode; hashes and metadata empty")
    func projectedFields() throws {
        var random = SplitMix(seed: 0xDEC0DE)
        for _ in 0..<1_000 {
            let (bytes, sequence) = Self.record(&random)
            let full = try Self.decode(bytes, sequence, .all).get()
            let projected = try Self.decode(bytes, sequence, .forProjections).get()
            #expect(full.hash.count == 32 && full.previousHash.count == 32)
            var expected = full
            expected.hash = []
            expected.previousHash = []
            expected.metadata = [:]
            #expect(projected == expected)
        }
    }

    @Test("for projections: a cut, lengthened or misspelt record is refused as the full decode refuses it")
    func damagedRecords() throws {
        var random = SplitMix(seed: 0xBAD)
        var refused = 0
        for round in 0..<600 {
            var (bytes, sequence) = Self.record(&random)
            switch round % 3 {
            case 0: bytes.removeLast(1 + Int(random.next(upTo: UInt64(bytes.count - 1))))
            case 1: bytes.append(contentsOf: [0, 1, 2].prefix(1 + Int(random.next(upTo: 3))))
            default:
                // An invalid UTF-8 byte in the stream's name (it starts after the hashes and its length).
                bytes[1 + 8 + 8 + 8 + 64 + 2] = 0xFF
            }
            let full = Self.decode(bytes, sequence, .all)
            let projected = Self.decode(bytes, sequence, .forProjections)
            if case .failure = full { refused += 1 }
            switch (full, projected) {
            case (.failure, .failure): break
            case (.success, .success): break
            default: Issue.record("round \(round): the decoders disagree (\(full), \(projected))")
            }
        }
        #expect(refused == 600)
    }

    @Test("metadata that is not an object of strings is refused by the full decode and skipped for projections")
    func badMetadata() throws {
        let encoded = RecordFormat.encode(
            sequence: 9, stream: "job-1", version: 1, type: "JobCreated", recordedAt: 5, data: Array("{}".utf8),
            metadataJSON: Array("[1]".utf8), previousHash: [UInt8](repeating: 0, count: 32))
        #expect(throws: (any Error).self) { try Self.decode(encoded.bytes, 9, .all).get() }
        let projected = try Self.decode(encoded.bytes, 9, .forProjections).get()
        #expect(projected.type == "JobCreated" && projected.data == Array("{}".utf8) && projected.metadata.isEmpty)
    }
}
