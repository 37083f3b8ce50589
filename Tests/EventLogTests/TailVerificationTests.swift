import EventLog
import Foundation
import LMDB
import Storage
import Testing

/// `verifyTail`: the health page's cheap check of the newest events.
@Suite("Tail verification")
struct TailVerificationTests {
    func filledLog(_ count: Int = 30) async throws -> LogFixture {
        let fixture = try LogFixture()
        for n in 0..<count {
            _ = try await fixture.writer.append(AppendRequest(stream: "s-\(n % 4)", events: [event("E", ["n": n])]))
        }
        return fixture
    }

    @Test("an intact tail passes, and only the newest events are read")
    func intact() async throws {
        let fixture = try await filledLog()
        let report = try fixture.log.verifyTail(last: 10)
        #expect(report.isIntact && report.eventsChecked == 10)
        #expect(try fixture.log.verifyTail(last: 1000).eventsChecked == 30)
        #expect(try LogFixture().log.verifyTail(last: 10).isIntact)
    }

    @Test("an edited byte, a removed event and a head that is not the last event are each named")
    func damage() async throws {
        let fixture = try await filledLog()
        let events = try fixture.environment.database("events")
        try fixture.environment.write { (txn) throws in
            var raw = try #require(try txn.get(events, BigEndian.bytes(28)))
            raw[raw.count - 5] ^= 0x01
            try txn.put(events, BigEndian.bytes(28), raw)
            try txn.delete(events, BigEndian.bytes(25))
        }
        let report = try fixture.log.verifyTail(last: 10)
        #expect(report.problems.contains(.hashMismatch(sequence: 28)))
        #expect(report.problems.contains(.sequenceGap(expected: 25, found: 26)))
        // An edit older than the tail is for the full verify, not this check.
        #expect(try fixture.log.verifyTail(last: 2).isIntact)
        _ = try fixture.environment.write { (txn) throws in try txn.delete(events, BigEndian.bytes(30)) }
        #expect(try fixture.log.verifyTail(last: 2).problems.contains(.headMismatch(stored: 30, last: 29)))
    }
}
