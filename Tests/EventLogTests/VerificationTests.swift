import EventLog
import Foundation
import LMDB
import Storage
import Testing

@Suite("Verification")
struct VerificationTests {
    func filledLog() async throws -> LogFixture {
        let fixture = try LogFixture()
        for n in 0..<30 {
            _ = try await fixture.writer.append(AppendRequest(stream: "s-\(n % 4)", events: [event("E", ["n": n])]))
        }
        return fixture
    }

    @Test("changing one stored byte of one event breaks the chain check at that event")
    func oneByteEdited() async throws {
        let fixture = try await filledLog()
        #expect(try fixture.log.verify().isIntact)
        let events = try fixture.environment.database("events")
        try fixture.environment.write { (txn) throws in
            var raw = try #require(try txn.get(events, BigEndian.bytes(17)))
            raw[raw.count - 5] ^= 0x01  // a byte inside the stored record, not the header
            try txn.put(events, BigEndian.bytes(17), raw)
        }
        let report = try fixture.log.verify()
        #expect(!report.isIntact)
        #expect(report.problems.contains(.hashMismatch(sequence: 17)))
    }

    @Test("a removed event and a damaged index entry are each named")
    func removedEventAndIndex() async throws {
        let fixture = try await filledLog()
        let events = try fixture.environment.database("events")
        let streams = try fixture.environment.database("streams")
        try fixture.environment.write { (txn) throws in
            try txn.delete(events, BigEndian.bytes(10))
            var key = Array("s-1".utf8)
            key.append(0)
            BigEndian.append(2, to: &key)
            try txn.put(streams, key, BigEndian.bytes(3))
        }
        let report = try fixture.log.verify()
        #expect(report.problems.contains(.sequenceGap(expected: 10, found: 11)))
        #expect(report.problems.contains(.brokenChain(sequence: 11)))
        #expect(report.problems.contains(.indexWrong(stream: "s-1", version: 2, points: 3, expected: 6)))
        #expect(report.problems.contains { if case .indexExtra = $0 { true } else { false } })
    }

    @Test("a byte edited in the file itself is caught too")
    func fileByteEdited() async throws {
        let fixture = try LogFixture()
        let marker = "MARKER-\(UUID().uuidString)"
        _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event()]))
        _ = try await fixture.writer.append(
            AppendRequest(stream: "s", events: [ProposedEvent(type: "E", data: Array("{\"m\":\"\(marker)\"}".utf8))]))
        try fixture.environment.sync()
        let path = fixture.environment.path
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let needle = Array(marker.utf8)
        let at = try #require(
            (0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
        let replacement: UInt8 = bytes[at + 7] == UInt8(ascii: "Z") ? UInt8(ascii: "Y") : UInt8(ascii: "Z")
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64(at + 7))
        try handle.write(contentsOf: [replacement])
        try handle.close()
        let report = try fixture.log.verify()
        #expect(report.problems == [.hashMismatch(sequence: 2)])
    }

    @Test("a head whose hash is not the last event's is caught, not only a wrong head sequence")
    func headHash() async throws {
        let fixture = try LogFixture()
        for n in 0..<3 { _ = try await fixture.writer.append(AppendRequest(stream: "s-\(n)", events: [event()])) }
        #expect(try fixture.log.verify().isIntact)
        let meta = try fixture.environment.database("meta")
        try fixture.environment.write { txn in
            var head = try #require(try txn.get(meta, Array("head".utf8)))
            head[8] ^= 0xFF  // the first byte of the stored hash
            try txn.put(meta, Array("head".utf8), head)
        }
        #expect(try fixture.log.verify().problems == [.headHashMismatch(sequence: 3)])
    }
}
