import EventLog
import Foundation
import LMDB
import Storage
import Testing

@Suite("Subscriptions")
struct SubscriptionTests {
    @Test("a subscriber gets the backlog, then live commits, in order and without gaps")
    func backlogThenLive() async throws {
        let fixture = try LogFixture()
        for n in 0..<5 {
            _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event("E", ["n": n])]))
        }
        let reader = Task {
            var seen: [UInt64] = []
            for try await e in fixture.log.subscribe(after: 2, pageSize: 2) {
                seen.append(e.sequence)
                if seen.count == 13 { break }
            }
            return seen
        }
        try await Task.sleep(for: .milliseconds(50))
        for n in 0..<10 {
            _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event("E", ["n": n])]))
        }
        #expect(try await reader.value == Array(3...15))
    }

    @Test("a slow subscriber reads a long backlog page by page and ends when cancelled")
    func slowSubscriberAndCancel() async throws {
        let fixture = try LogFixture()
        let batch = (0..<50).map { event("E", ["n": $0]) }
        for _ in 0..<20 { _ = try await fixture.writer.append(AppendRequest(stream: "s", events: batch)) }
        var iterator = fixture.log.subscribe(after: 0, pageSize: 16).makeAsyncIterator()
        var expected: UInt64 = 1
        while expected <= 1000 {
            let next = try #require(try await iterator.next())
            #expect(next.sequence == expected)
            expected += 1
        }
        let waiting = Task { () -> RecordedEvent? in
            var tail = fixture.log.subscribe(after: 1000, pollInterval: .seconds(30)).makeAsyncIterator()
            return try await tail.next()
        }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(try await waiting.value == nil)
    }
}
