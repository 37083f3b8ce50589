import EventLog
import Foundation
import Testing

@testable import Botrix

/// Every read does a bounded amount of work per request and says where to go on: the
/// work counter (`examined`) is asserted, never the time.
@Suite("Bounded reads")
struct BoundedReadTests {
    static let total = 100_000
    static let budget = 10_000

    /// 100,000 filler events over ten streams (`filler-0` ... `filler-9`), then one event of
    /// a rare type at the very end, in stream `filler-3`.
    static func filled() async throws -> DomainFixture {
        let f = try await DomainFixture.make()
        let data = Array(#"{"n":1}"#.utf8)
        for batch in 0..<(total / 1000) {
            _ = try await f.writer.perform { ltx in
                for i in 0..<1000 {
                    let n = batch * 1000 + i
                    _ = try ltx.append(
                        AppendRequest(stream: "filler-\(n % 10)", events: [ProposedEvent(type: "Filler", data: data)]))
                }
            }
        }
        _ = try await f.writer.perform { ltx in
            try ltx.append(AppendRequest(stream: "filler-3", events: [ProposedEvent(type: "Rare", data: data)]))
        }
        return f
    }

    /// One log of 100,000 events for the three reads (filling it is the slow part).
    @Test("on 100,000 events: a rare type, a stream from deep in the log, an unfiltered page — each bounded")
    func onALongLog() async throws {
        let f = try await Self.filled()
        let base = try f.store.log.head().sequence - UInt64(Self.total) - 1
        try rareType(f, base: base)
        try streamFromDeep(f, base: base)
        try unfiltered(f, base: base)
    }

    /// Each request examines at most the budget, and following the cursor finds the event.
    func rareType(_ f: DomainFixture, base: UInt64) throws {
        var after = base
        var requests = 0
        var found: [RecordedEvent] = []
        while true {
            let page = try f.service.events(
                after: after, limit: 100, filter: EventFilter(type: "Rare"), budget: Self.budget)
            requests += 1
            #expect(page.examined <= Self.budget)
            found += page.events
            guard page.more else { break }
            after = try #require(page.next)
            #expect(requests < 20, "the cursor does not move on")
            if requests >= 20 { break }
        }
        #expect(found.map(\.type) == ["Rare"] && found.first?.sequence == base + UInt64(Self.total) + 1)
        #expect(requests == Self.total / Self.budget + 1)
    }

    /// A stream read from deep in the log starts at the right event without walking the ones before.
    func streamFromDeep(_ f: DomainFixture, base: UInt64) throws {
        let from = base + 95_000
        var after = from
        var collected: [RecordedEvent] = []
        var requests = 0
        while true {
            let page = try f.service.events(
                after: after, limit: 50, filter: EventFilter(stream: "filler-3"), budget: Self.budget)
            requests += 1
            #expect(page.examined <= 50, "a stream page examines its events only")
            collected += page.events
            guard page.more, let next = page.next else { break }
            after = next
            if requests > 100 { break }
        }
        // Filler n (sequence base + n + 1) is in filler-(n % 10); the rare event closes filler-3.
        let expected = (95_000..<Self.total).filter { $0 % 10 == 3 }.count + 1
        #expect(collected.count == expected)
        #expect(collected.allSatisfy { $0.stream == "filler-3" && $0.sequence > from })
        #expect(zip(collected, collected.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        #expect(collected.last?.type == "Rare")
    }

    /// An unfiltered page examines only what it returns.
    func unfiltered(_ f: DomainFixture, base: UInt64) throws {
        let page = try f.service.events(after: base + 500, limit: 1000, budget: Self.budget)
        #expect(page.events.count == 1000 && page.examined == 1000 && page.more)
        #expect(page.next == base + 1500 && page.events.first?.sequence == base + 501)
        let end = try f.service.events(after: page.head, limit: 10, budget: Self.budget)
        #expect(end.events.isEmpty && end.examined == 0 && !end.more && end.next == nil)
    }

    @Test("lists follow the next cursor through every job once, newest first; deep pages are refused")
    func keysetLists() async throws {
        let f = try await DomainFixture.make()
        var created: [UUID] = []
        for _ in 0..<23 { created.append(try await f.service.createJob(CreateJob(count: 1)).id) }
        var seen: [UUID] = []
        var after: UInt64?
        repeat {
            let page = try f.service.jobs(limit: 5, after: after)
            #expect(page.examined <= 5 && page.total == 23)
            seen += page.items.map(\.id)
            after = page.next
        } while after != nil && seen.count <= 23
        #expect(seen == created.reversed())
        #expect(try f.service.jobs(page: 2, limit: 5).items.map(\.id) == Array(created.reversed()[5..<10]))
        #expect(throws: DomainError.self) { _ = try f.service.jobs(page: 2_000, limit: 10) }
    }

    @Test("a filtered list stops at its budget and its cursor goes on from where it stopped")
    func filteredListBudget() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 100))
        _ = try await f.service.claimNext(workerID: "w")
        _ = try await f.service.recordAccount(account(job.id, worker: "w", 0))
        _ = try await f.service.updateAccount(UpdateAccount(accountID: 1, status: .active))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1..<60 { group.addTask { _ = try await f.service.recordAccount(account(job.id, worker: "w", n)) } }
            try await group.waitForAll()
        }
        // Only account 1 (the oldest) is active: the newest-first scan must cross 59 others,
        // with room to pass over 40 per request.
        var after: UInt64?
        var found: [Int64] = []
        var requests = 0
        repeat {
            let page = try f.service.accounts(limit: 10, status: .active, jobID: job.id, after: after, skipLimit: 40)
            #expect(page.examined <= 40 + 10)
            found += page.items.map(\.id)
            after = page.next
            requests += 1
        } while after != nil && requests < 5
        #expect(found == [1] && requests == 2)
        #expect(throws: DomainError.self) { _ = try f.service.accounts(page: 6, limit: 10, skipLimit: 40) }
    }
}
