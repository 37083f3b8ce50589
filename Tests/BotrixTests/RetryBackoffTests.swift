import EventLog
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// Retries with backoff: a job failed with `retry` waits out an exponential, jittered
/// delay (`available_at`) before it can be claimed again; and leases are timed by a clock
/// that a step of the system clock does not move.
@Suite("Retry backoff and the lease clock")
struct RetryBackoffTests {
    /// Claims `job`'s current attempt and fails it with retry; the failed view.
    static func claimAndFail(_ f: DomainFixture, worker: String) async throws -> JobView {
        let claim = try #require(try await f.service.claim(workerID: worker))
        return try await f.service.fail(
            jobID: claim.job.id, workerID: worker, claimToken: claim.claimToken, error: "flaky", retry: true)
    }

    @Test("the delay doubles per attempt within its jitter, stops at the cap, and differs between jobs")
    func delays() throws {
        let context = DecisionContext(
            now: 1_000_000, maxAttempts: 10, retryBackoffBaseSeconds: 4, retryBackoffMaxSeconds: 30)
        func job(_ attempts: Int, _ id: UUID = UUID()) -> JobView {
            JobView(
                id: id, count: 1, status: .running, progress: 0, successful: 0, failed: 0, priority: 1,
                verificationEnabled: false, errorMessage: nil, message: nil, attempts: attempts, workerID: "w",
                leaseExpiresAt: nil, createdAt: "", updatedAt: "", startedAt: nil, completedAt: nil, version: 2,
                createdSequence: 1, requeued: false)
        }
        for (attempts, full) in [(1, 4000), (2, 8000), (3, 16000), (4, 30000), (9, 30000)] {
            for _ in 0..<50 {
                let delay = JobDecider.retryDelay(job(attempts), context)
                #expect((Int64(full / 2)...Int64(full)).contains(delay), "attempt \(attempts): \(delay) ms")
            }
        }
        // The same job and attempt always wait the same; jobs that failed together spread out.
        let id = UUID()
        #expect(JobDecider.retryDelay(job(2, id), context) == JobDecider.retryDelay(job(2, id), context))
        let spread = Set((0..<20).map { _ in JobDecider.retryDelay(job(2), context) })
        #expect(spread.count > 10, "no jitter: \(spread)")
        var off = context
        off.retryBackoffBaseSeconds = 0
        #expect(JobDecider.retryDelay(job(3), off) == 0)
    }

    @Test("a retry waits out its backoff: listed with available_at, not claimed early, claimed once due")
    func waitsOutBackoff() async throws {
        let f = try await DomainFixture.make(maxAttempts: 3, retryBackoffBaseSeconds: 10, retryBackoffMaxSeconds: 60)
        let s = f.service
        let created = try await s.createJob(CreateJob(count: 1))
        let failed = try await Self.claimAndFail(f, worker: "w1")
        #expect(failed.status == .pending)
        let available = try #require(failed.availableAt.flatMap(Timestamp.parse))
        let wait = available - f.clock.milliseconds
        #expect((5_000...10_000).contains(wait), "first retry waits 5–10 s, not \(wait) ms")
        // Another job created after it is claimed first: the retry is not ready.
        let other = try await s.createJob(CreateJob(count: 1))
        #expect(try await s.claimNext(workerID: "w2")?.id == other.id)
        #expect(try await s.claimNext(workerID: "w2") == nil)
        #expect(try s.jobStats().retriesWaiting == 1)
        #expect(try s.jobStats().queueDepthByPriority.values.reduce(0, +) == 0)
        let listed = try s.queue()
        #expect(listed.map(\.id) == [created.id] && listed.first?.availableAt == failed.availableAt)
        // One millisecond early: still not; at available_at: claimed, and no longer waiting.
        f.clock.advance(seconds: wait / 1000)
        f.clock.advanceMilliseconds(wait % 1000 - 1)
        #expect(try await s.claimNext(workerID: "w3") == nil)
        f.clock.advanceMilliseconds(1)
        let second = try #require(try await s.claimNext(workerID: "w3"))
        #expect(second.id == created.id && second.attempts == 2 && second.availableAt == nil)
        #expect(try s.jobStats().retriesWaiting == 0)
        // The second retry waits about twice as long.
        let again = try await s.fail(
            jobID: created.id, workerID: "w3", claimToken: nil, error: "flaky", retry: true)
        let secondWait = try #require(again.availableAt.flatMap(Timestamp.parse)) - f.clock.milliseconds
        #expect((10_000...20_000).contains(secondWait), "second retry waits 10–20 s, not \(secondWait) ms")
        // Rebuilt from the log, the waiting retry is where it was.
        let live = try f.snapshot()
        _ = try await s.rebuild()
        #expect(try f.snapshot().digests == live.digests)
    }

    @Test("the lease monitor's round puts a due retry back in the queue: counted, listed, claimed in order")
    func dueRetryJoinsQueue() async throws {
        let f = try await DomainFixture.make(retryBackoffBaseSeconds: 4, retryBackoffMaxSeconds: 4)
        let s = f.service
        let retried = try await s.createJob(CreateJob(count: 1))
        _ = try await Self.claimAndFail(f, worker: "w")
        let younger = try await s.createJob(CreateJob(count: 1))
        #expect(try await s.queueDueRetries() == 0)  // not due yet: nothing appended
        #expect(try s.jobStats().retriesWaiting == 1)
        f.clock.advance(seconds: 5)
        let head = try f.store.log.head().sequence
        #expect(try await s.queueDueRetries() == 1)
        #expect(try f.store.log.read(after: head, limit: 10).map(\.type) == ["JobRetryDue"])
        let stats = try s.jobStats()
        #expect(stats.retriesWaiting == 0 && stats.queueDepthByPriority.values.reduce(0, +) == 2)
        let queued = try s.queue()
        #expect(queued.map(\.id) == [retried.id, younger.id] && queued.first?.availableAt == nil)
        #expect(try await s.queueDueRetries() == 0)  // once only
        let live = try f.snapshot()
        _ = try await s.rebuild()
        #expect(try f.snapshot().digests == live.digests)
        #expect(try await s.claimNext(workerID: "a")?.id == retried.id)
    }

    @Test("a due retry goes ahead of younger jobs of its priority, as a requeued job does")
    func dueRetryKeepsItsPlace() async throws {
        let f = try await DomainFixture.make(retryBackoffBaseSeconds: 2, retryBackoffMaxSeconds: 2)
        let s = f.service
        let retried = try await s.createJob(CreateJob(count: 1))
        _ = try await Self.claimAndFail(f, worker: "w")
        let younger = try await s.createJob(CreateJob(count: 1))
        let urgent = try await s.createJob(CreateJob(count: 1, priority: 5))
        f.clock.advance(seconds: 3)
        #expect(try await s.claimNext(workerID: "a")?.id == urgent.id)
        #expect(try await s.claimNext(workerID: "b")?.id == retried.id)
        #expect(try await s.claimNext(workerID: "c")?.id == younger.id)
    }

    @Test("a claim waiting for work is served when a retry's backoff ends")
    func waitingClaimGetsDueRetry() async throws {
        let f = try await DomainFixture.make(retryBackoffBaseSeconds: 2, retryBackoffMaxSeconds: 2)
        let s = f.service
        let job = try await s.createJob(CreateJob(count: 1))
        _ = try await Self.claimAndFail(f, worker: "w")
        let monitor = Task { await s.monitorLeases(every: .milliseconds(20)) }
        defer { monitor.cancel() }
        let waiting = try await LongPollTests.waiting(f, 1, wait: .seconds(60))
        f.clock.advance(seconds: 3)
        let claimed = try await waiting[0].value
        #expect(claimed.map(\.job.id) == [job.id])
    }

    @Test("a step of the system clock does not move the lease clock")
    func leaseClockIgnoresSteps() {
        let wall = Mutex<Int64>(1_767_323_045_678)
        let monotonic = Mutex<UInt64>(5_000_000_000)
        let clock = LeaseClock(wall: { wall.withLock { $0 } }, monotonic: { monotonic.withLock { $0 } })
        #expect(clock.now() == 1_767_323_045_678)
        wall.withLock { $0 += 3_600_000 }  // the system clock jumps an hour ahead
        #expect(clock.now() == 1_767_323_045_678)
        monotonic.withLock { $0 += 2_500_000_000 }  // 2.5 s pass
        #expect(clock.now() == 1_767_323_048_178)
    }

    @Test("with leases on their own clock, a jump of the writer's clock expires no lease")
    func wallJumpExpiresNothing() async throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("b.mdb"), mapSize: 1 << 24, durability: .nosync))
        let wall = TestClock()
        let steady = Mutex<Int64>(wall.milliseconds)
        let writer = try GroupCommitWriter(log: store.log, clock: { wall.milliseconds })
        let s = try await BotrixService(
            store: store, writer: writer, settings: .init(leaseSeconds: 60),
            leaseClock: { steady.withLock { $0 } })
        _ = try await s.createJob(CreateJob(count: 1))
        let claim = try #require(try await s.claim(workerID: "w"))
        wall.advance(seconds: 3600)
        #expect(try await s.expireDueLeases() == 0)
        let beat = try await s.heartbeat(jobID: claim.job.id, workerID: "w", claimToken: claim.claimToken)
        #expect(beat.status == .running)
        steady.withLock { $0 += 3_600_000 }  // an hour on the lease clock: now it ran out
        #expect(try await s.expireDueLeases() == 1)
        await writer.shutdown()
    }
}
