import EventLog
import Foundation
import Synchronization
import Testing

@testable import Botrix

/// Claims that wait for work: served in arrival order as jobs become ready, each job once.
@Suite("Long-poll claims")
struct LongPollTests {
    /// Starts `count` waiting claims one after another (each registered before the next
    /// starts, so arrival order is known) and returns their tasks in that order.
    static func waiting(_ f: DomainFixture, _ count: Int, wait: Duration) async throws -> [Task<
        [ClaimedJob], any Error
    >] {
        var tasks: [Task<[ClaimedJob], any Error>] = []
        for n in 0..<count {
            let before = f.service.claimWaiters.arrivals
            tasks.append(
                Task {
                    try await f.service.claim(workerID: "w\(n)", maxJobs: 1, wait: wait, owner: "open")
                })
            // Generous: the test suite runs many suites at once on two cores, and a slow full
            // run once left a claim task unscheduled for more than 120 s.
            let deadline = Date().addingTimeInterval(300)
            while f.service.claimWaiters.arrivals == before && Date() < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(f.service.claimWaiters.arrivals == before + 1, "claim \(n) is not waiting")
        }
        return tasks
    }

    @Test("20 waiting workers, then 10 jobs: the first 10 get them in queue order at once, the rest keep waiting")
    func firstComeFirstServed() async throws {
        let f = try await DomainFixture.make()
        // Long enough that no waiter times out while the 20 arrive on a loaded machine.
        let tasks = try await Self.waiting(f, 20, wait: .seconds(600))
        var created: [UUID] = []
        for _ in 0..<10 { created.append(try await f.service.createJob(CreateJob(count: 1)).id) }
        var answers: [[ClaimedJob]] = []
        for task in tasks.prefix(10) { answers.append(try await task.value) }
        #expect(answers.map { $0.map(\.job.id) } == created.map { [$0] }, "not in arrival and queue order")
        #expect(f.service.claimWaiters.count == 10, "the other ten stopped waiting")
        #expect(try f.service.jobStats().byStatus[.running] == 10)
        f.service.claimWaiters.stop()
        for task in tasks.suffix(10) {
            let rest = try await task.value
            #expect(rest.isEmpty)
        }
    }

    @Test("a waiting claim that finds no work answers empty when its time is up")
    func timesOut() async throws {
        let f = try await DomainFixture.make()
        let started = ContinuousClock.now
        let answer = try await f.service.claim(workerID: "w", maxJobs: 1, wait: .seconds(1), owner: "open")
        #expect(answer.isEmpty && ContinuousClock.now - started >= .seconds(1))
    }

    @Test("stopping answers every waiting claim at once, empty; later claims do not wait")
    func stopAnswersAll() async throws {
        let f = try await DomainFixture.make()
        let tasks = try await Self.waiting(f, 5, wait: .seconds(30))
        f.service.claimWaiters.stop()
        for task in tasks {
            let answer = try await task.value
            #expect(answer.isEmpty)
        }
        // After a stop a claim does not start waiting (no arrival), it answers empty.
        let arrivals = f.service.claimWaiters.arrivals
        let late = try await f.service.claim(workerID: "late", maxJobs: 1, wait: .seconds(30), owner: "open")
        #expect(late.isEmpty && f.service.claimWaiters.arrivals == arrivals)
    }

    @Test("a waiting claim whose key was revoked meanwhile is refused when work comes; the job stays pending")
    func revokedWhileWaiting() async throws {
        let f = try await DomainFixture.make()
        let valid = Atomic(true)
        let before = f.service.claimWaiters.arrivals
        let waiting = Task {
            try await f.service.claim(
                workerID: "revoked", maxJobs: 1, wait: .seconds(60), owner: "k",
                allowed: { valid.load(ordering: .relaxed) })
        }
        while f.service.claimWaiters.arrivals == before { try await Task.sleep(for: .milliseconds(5)) }
        valid.store(false, ordering: .relaxed)  // the key is revoked
        let job = try await f.service.createJob(CreateJob(count: 1))
        await #expect(throws: ClaimWaitRevoked.self) { _ = try await waiting.value }
        #expect(try f.service.job(job.id)?.status == .pending)
        #expect(try await f.service.claimNext(workerID: "other")?.id == job.id)
    }

    @Test("one key may hold only its share of waiting claims; a batch claim takes several jobs, each its own token")
    func shareAndBatch() async throws {
        let f = try await DomainFixture.make()
        let service = try await BotrixService(
            store: f.store, writer: f.writer, settings: .init(waitingClaimsPerKey: 2))
        // Waits far longer than the test: a slow machine must not let a waiter time out before
        // the third claim is tried. `stop()` below answers them.
        let first = Task { try await service.claim(workerID: "a", maxJobs: 1, wait: .seconds(600), owner: "k") }
        let second = Task { try await service.claim(workerID: "b", maxJobs: 1, wait: .seconds(600), owner: "k") }
        let deadline = Date().addingTimeInterval(20)
        while service.claimWaiters.count < 2 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        await #expect(throws: ClaimWaitRefused.self) {
            _ = try await service.claim(workerID: "c", maxJobs: 1, wait: .seconds(10), owner: "k")
        }
        service.claimWaiters.stop()
        _ = try await (first.value, second.value)

        for _ in 0..<5 { _ = try await f.service.createJob(CreateJob(count: 1)) }
        let batch = try await f.service.claim(workerID: "batch", maxJobs: 3)
        #expect(batch.count == 3 && Set(batch.map(\.claimToken)).count == 3 && Set(batch.map(\.job.id)).count == 3)
        #expect(batch.allSatisfy { $0.job.status == .running && $0.job.workerID == "batch" })
    }
}

/// Renewals are kept in memory; the log records at most one per half lease.
@Suite("Heartbeats and the log")
struct HeartbeatLogTests {
    @Test("1,000 heartbeats 10 s apart on a 300 s lease add at most one event per 150 s, and the lease holds")
    func boundedEvents() async throws {
        let f = try await DomainFixture.make(leaseSeconds: 300)
        let job = try await f.service.createJob(CreateJob(count: 1))
        let claim = try #require(try await f.service.claim(workerID: "w"))
        let before = try f.store.log.head().sequence
        for _ in 0..<1000 {
            f.clock.advance(seconds: 10)
            let beat = try await f.service.heartbeat(jobID: job.id, workerID: "w", claimToken: claim.claimToken)
            #expect(beat.leaseExpiresAt == Timestamp.rfc3339(milliseconds: f.clock.milliseconds + 300_000))
            // The lease monitor never finds it due.
            #expect(try await f.service.expireDueLeases() == 0)
        }
        let added = try f.store.log.head().sequence - before
        let bound = UInt64(10_000 / 150 + 1)
        #expect(added <= bound, "\(added) events for 1,000 heartbeats (bound \(bound))")
        #expect(added >= 10, "renewals are never recorded: a restart would lose every lease")
        // The recorded lease is never more than half a lease behind the one granted.
        let recorded = try #require(
            try f.store.environment.read { try f.service.projections.jobs.view(job.id, in: $0) }?.leaseExpiresAt)
        #expect(try #require(Timestamp.parse(recorded)) >= f.clock.milliseconds + 150_000 - 10_000)
        // Once the worker stops beating, the lease runs out and the job goes back.
        f.clock.advance(seconds: 301)
        #expect(try await f.service.expireDueLeases() == 1)
        #expect(try f.service.job(job.id)?.status == .pending)
    }
}

/// Priority aging keeps low priorities from starving under steady high-priority load.
@Suite("Queue fairness")
struct FairnessTests {
    @Test(
        "with aging, a low-priority job under steady high-priority load is claimed within a bounded wait; strict priority never picks it"
    )
    func agingBoundsTheWait() async throws {
        let f = try await DomainFixture.make()
        let aging = try await BotrixService(store: f.store, writer: f.writer, settings: .init(queueAgingSeconds: 60))
        let low = try await f.service.createJob(CreateJob(count: 1, priority: 0))
        var claimedLowAt: Int?
        for minute in 0..<15 where claimedLowAt == nil {
            // Steady load: a fresh high-priority job every minute, each claimed at once.
            _ = try await f.service.createJob(CreateJob(count: 1, priority: 10))
            f.clock.advance(seconds: 60)
            let strict = try f.store.environment.read { txn in
                try f.service.projections.jobs.nextToClaim(now: f.clock.milliseconds, agingSeconds: 0, in: txn)
            }
            #expect(strict != low.id, "strict priority picked the low job")
            let claim = try #require(try await aging.claim(workerID: "w"))
            if claim.job.id == low.id { claimedLowAt = minute + 1 }
        }
        // Priority 0 gains a level a minute; each competing priority-10 job has waited one
        // minute (level 11) when claimed, so the low job wins once above 11: at minute 12.
        let minutes = try #require(claimedLowAt)
        #expect(minutes == 12, "waited \(minutes) minutes")
    }
}

/// The reviewer's cases against in-memory renewals: they belong to one attempt, every
/// holder check counts them, and a report never shortens them.
@Suite("In-memory renewals")
struct RenewalTests {
    func token(_ claim: ClaimedJob?) throws -> (UUID, String) {
        let claim = try #require(claim)
        return (claim.job.id, claim.claimToken)
    }

    @Test("a renewal of a released attempt does not carry over to the next attempt")
    func renewalStaysWithItsAttempt() async throws {
        let f = try await DomainFixture.make()
        _ = try await f.service.createJob(CreateJob(count: 1))
        let (job, a) = try token(try await f.service.claim(workerID: "wa", leaseSeconds: 3600))
        _ = try await f.service.heartbeat(jobID: job, workerID: "wa", claimToken: a)
        _ = try await f.service.release(jobID: job, workerID: "wa", claimToken: a)
        let (_, b) = try token(try await f.service.claim(workerID: "wb", leaseSeconds: 2))
        #expect(try f.service.job(job)?.leaseExpiresAt == Timestamp.rfc3339(milliseconds: f.clock.milliseconds + 2000))
        f.clock.advance(seconds: 3)
        #expect(try await f.service.expireDueLeases() == 1, "the earlier attempt's renewal held the job")
        #expect(try f.service.job(job)?.status == .pending)
        await #expect(throws: DomainError.self) {
            _ = try await f.service.complete(jobID: job, workerID: "wb", claimToken: b)
        }
    }

    @Test("a lease renewed in memory is honoured by accounts, progress and complete")
    func everyCallCountsTheRenewal() async throws {
        let f = try await DomainFixture.make()
        _ = try await f.service.createJob(CreateJob(count: 2))
        let (job, t) = try token(try await f.service.claim(workerID: "w", leaseSeconds: 4))
        f.clock.advance(seconds: 1)
        let head = try f.store.log.head().sequence
        _ = try await f.service.heartbeat(jobID: job, workerID: "w", claimToken: t)  // to 5 s, in memory
        #expect(try f.store.log.head().sequence == head, "this renewal should not need an event")
        f.clock.advance(seconds: 3)  // 4 s: past the recorded lease, inside the granted one
        var record = account(job, worker: "w", 1)
        record.claimToken = t
        _ = try await f.service.recordAccount(record)
        _ = try await f.service.reportProgress(ReportProgress(jobID: job, workerID: "w", progress: 1, claimToken: t))
        #expect(try await f.service.complete(jobID: job, workerID: "w", claimToken: t).status == .completed)
    }

    @Test("a progress report never shortens a longer lease, and records it")
    func progressKeepsTheLease() async throws {
        let f = try await DomainFixture.make()
        _ = try await f.service.createJob(CreateJob(count: 2))
        let (job, t) = try token(try await f.service.claim(workerID: "w", leaseSeconds: 4))
        _ = try await f.service.heartbeat(jobID: job, workerID: "w", claimToken: t, leaseSeconds: 3600)
        let granted = f.clock.milliseconds + 3_600_000
        _ = try await f.service.reportProgress(ReportProgress(jobID: job, workerID: "w", progress: 1, claimToken: t))
        let recorded = try #require(
            try f.store.environment.read { try f.service.projections.jobs.view(job, in: $0) }?.leaseExpiresAt)
        #expect(Timestamp.parse(recorded) == granted, "the recorded lease is \(recorded)")
    }
}
