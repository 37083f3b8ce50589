import EventLog
import Foundation
import LMDB
import Storage
import Testing

@Suite("Bad input")
struct BadAppendTests {
    static let badRequests: [String: AppendRequest] = [
        "empty stream": AppendRequest(stream: "", events: [event()]),
        "long stream": AppendRequest(stream: String(repeating: "s", count: 201), events: [event()]),
        "control character": AppendRequest(stream: "a\u{0}b", events: [event()]),
        "no events": AppendRequest(stream: "s", events: []),
        "empty type": AppendRequest(stream: "s", events: [ProposedEvent(type: "", data: Array("{}".utf8))]),
        "bad type": AppendRequest(stream: "s", events: [ProposedEvent(type: "A B", data: Array("{}".utf8))]),
        "array data": AppendRequest(stream: "s", events: [ProposedEvent(type: "A", data: Array("[1]".utf8))]),
        "bad json": AppendRequest(stream: "s", events: [ProposedEvent(type: "A", data: Array("{nope}".utf8))]),
        "oversized": AppendRequest(
            stream: "s",
            events: [ProposedEvent(type: "A", data: Array("{\"p\":\"\(String(repeating: "x", count: 5000))\"}".utf8))]),
        "wrong version": AppendRequest(stream: "s", expectedVersion: .exact(3), events: [event()]),
    ]

    @Test("bad appends give a typed error and write nothing", arguments: badRequests.keys.sorted())
    func badInput(label: String) async throws {
        let request = try #require(Self.badRequests[label])
        let fixture = try LogFixture(maximumRecordBytes: 4096)
        _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event()]))
        let before = try fixture.log.head()
        await #expect(throws: EventLogError.self, "\(label)") { _ = try await fixture.writer.append(request) }
        #expect(try fixture.log.head() == before)
        #expect(try fixture.log.verify().isIntact)
    }

    @Test("errors explain what to do")
    func messages() {
        let conflict = EventLogError.versionConflict(stream: "job-1", expected: 2, actual: 3)
        #expect(conflict.description.contains("version 3") && conflict.description.contains("retry"))
        #expect(EventLogError.recordTooLarge(bytes: 5000, limit: 4096).description.contains("4096"))
    }

    @Test("errors are equal by their values, not by how they read")
    func equality() {
        // Both read `invalid stream name "x": y": z`; they are different errors.
        #expect(
            EventLogError.invalidStreamName("x\": y", reason: "z") != .invalidStreamName("x", reason: "y\": z"))
        #expect(
            EventLogError.versionConflict(stream: "s", expected: 1, actual: 2)
                == .versionConflict(stream: "s", expected: 1, actual: 2))
        #expect(EventLogError.emptyAppend != .writerStopped)
    }

    @Test("a record in an unknown format is refused on read with a typed error")
    func unknownFormat() async throws {
        let fixture = try LogFixture()
        _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event()]))
        let events = try fixture.environment.database("events")
        try fixture.environment.write { (txn) throws in
            var raw = try #require(try txn.get(events, BigEndian.bytes(1)))
            raw[0] = 9
            try txn.put(events, BigEndian.bytes(1), raw)
        }
        #expect(throws: EventLogError.unsupportedFormat(version: 9, sequence: 1)) {
            _ = try fixture.log.read(after: 0, limit: 1)
        }
    }
}
