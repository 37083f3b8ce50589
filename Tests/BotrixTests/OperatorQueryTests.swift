import EventLog
import Foundation
import Testing

@testable import Botrix

/// The dashboard's reads beside the API's: search by index prefix, jobs of one priority,
/// and a replay bounded by its budget.
@Suite("Operator queries")
struct OperatorQueryTests {
    @Test("search finds accounts by the start of their email or username, case-insensitively, in index order")
    func search() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 10))
        let other = try await f.service.createJob(CreateJob(count: 10))
        _ = try await f.service.claimNext(workerID: "w")
        _ = try await f.service.claimNext(workerID: "v")
        let names = ["alice", "alina", "bob", "Albert", "carol"]
        for (n, name) in names.enumerated() {
            _ = try await f.service.recordAccount(
                account(
                    n < 3 ? job.id : other.id, worker: n < 3 ? "w" : "v", n, email: "\(name)@example.com",
                    username: "user_\(name)_\(n)"))
        }
        let al = try f.service.searchAccounts(prefix: "AL", limit: 10)
        #expect(al.accounts.map(\.email) == ["Albert@example.com", "alice@example.com", "alina@example.com"])
        #expect(!al.truncated)
        // Usernames too, each account once even when both fields match.
        #expect(try f.service.searchAccounts(prefix: "user_b", limit: 10).accounts.map(\.username) == ["user_bob_2"])
        #expect(try f.service.searchAccounts(prefix: "al", jobID: job.id, limit: 10).accounts.count == 2)
        let limited = try f.service.searchAccounts(prefix: "al", limit: 2)
        #expect(limited.accounts.count == 2 && limited.truncated)
        #expect(try f.service.searchAccounts(prefix: "zed", limit: 10).accounts.isEmpty)
        #expect(try f.service.searchAccounts(prefix: "", limit: 10).accounts.isEmpty)
        // A tiny budget stops the walk of the index and says so.
        #expect(try f.service.searchAccounts(prefix: "a", limit: 10, budget: 1).truncated)
    }

    @Test("jobs of one priority: only they, newest first, with a total and a cursor that goes on")
    func priority() async throws {
        let f = try await DomainFixture.make()
        var high: [UUID] = []
        for n in 0..<12 {
            let job = try await f.service.createJob(CreateJob(count: 1, priority: n % 3 == 0 ? 2 : 1))
            if n % 3 == 0 { high.append(job.id) }
        }
        let first = try f.service.jobs(priority: 2, limit: 3)
        #expect(first.total == 4 && first.items.map(\.id) == Array(high.reversed().prefix(3)))
        let second = try f.service.jobs(priority: 2, limit: 3, after: first.next)
        #expect(second.items.map(\.id) == [high[0]])
        #expect(try f.service.jobs(priority: 2, limit: 10, status: .running).items.isEmpty)
        #expect(try f.service.jobs(priority: 7, limit: 10).total == 0)
        #expect(!first.totalIsLowerBound)
        // Looking at 5 entries only: the count says it may be short, and the cursor goes on.
        let capped = try f.service.jobs(priority: 2, limit: 3, skipLimit: 5)
        #expect(capped.totalIsLowerBound && capped.total < 4 && capped.next != nil)
    }

    @Test("a replay folds up to its cut, and refuses beyond its budget instead of reading it all")
    func replayBudget() async throws {
        let f = try await DomainFixture.make()
        for _ in 0..<5 { _ = try await f.service.createJob(CreateJob(count: 1)) }
        let three = try f.service.replay(upTo: .sequence(3), budget: 3)
        #expect(three.jobs.count == 3 && three.sequence == 3)
        #expect(throws: ReplayTooLong.self) { _ = try f.service.replay(upTo: .sequence(4), budget: 3) }
        #expect(throws: ReplayTooLong.self) { _ = try f.service.replay(upTo: .time(.max), budget: 3) }
        // A time before the budget's end is folded even when the log is longer.
        #expect(try f.service.replay(upTo: .time(0), budget: 3).jobs.isEmpty)
        #expect(try f.service.replay(upTo: .sequence(99), budget: 10).jobs.count == 5)
    }

    @Test("newest-first pages of one event type, followed by `earlier`, cover every match once")
    func newestEventsPaging() async throws {
        let f = try await DomainFixture.make()
        var cancelled: [UInt64] = []
        for n in 0..<40 {
            let job = try await f.service.createJob(CreateJob(count: 1))
            if n % 3 == 0 { _ = try await f.service.cancel(jobID: job.id) }
            if n % 3 == 0 { cancelled.append(try f.store.log.head().sequence) }
        }
        var seen: [UInt64] = []
        var through: UInt64? = nil
        var pages = 0
        repeat {
            let page = try f.service.newestEvents(through: through, limit: 4, type: "JobCancelled", window: 9)
            seen = page.events.map(\.sequence) + seen
            #expect(page.events.count <= 4 && page.events.allSatisfy { $0.type == "JobCancelled" })
            through = page.earlier
            pages += 1
        } while through != nil && pages < 100
        #expect(seen == cancelled, "skipped or repeated: \(seen) vs \(cancelled)")
        let all = try f.service.newestEvents(limit: 5, type: nil, window: 5)
        #expect(all.events.map(\.sequence) == Array((all.head - 4)...all.head))
        #expect(try f.service.newestEvents(through: 3, limit: 5, type: nil, window: 5).earlier == nil)
    }
}
