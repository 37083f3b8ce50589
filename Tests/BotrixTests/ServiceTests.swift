import EventLog
import Foundation
import TestSupport
import Testing

@testable import Botrix

@Suite("Write and read paths")
struct ServiceTests {
    @Test("a worker's whole flow: claim, heartbeat, progress, count accounts, complete; views and stats follow")
    func workerFlow() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        let created = try await s.createJob(CreateJob(count: 3, priority: 2))
        #expect(created.status == .pending && created.version == 1)
        #expect(try s.queue().map(\.id) == [created.id])
        let claimed = try #require(try await s.claimNext(workerID: "w1"))
        #expect(claimed.id == created.id && claimed.status == .running && claimed.attempts == 1)
        #expect(try await s.claimNext(workerID: "w2") == nil)
        _ = try await s.heartbeat(jobID: claimed.id, workerID: "w1")
        _ = try await s.reportProgress(
            ReportProgress(jobID: claimed.id, workerID: "w1", successful: 0, message: "warming up"))
        var ids: [Int64] = []
        for n in 1...3 { ids.append(try await s.recordAccount(account(claimed.id, worker: "w1", n)).id) }
        #expect(ids == [1, 2, 3])
        await #expect(throws: DomainError.self) { _ = try await s.recordAccount(account(claimed.id, worker: "w1", 4)) }
        let done = try await s.complete(jobID: claimed.id, workerID: "w1")
        #expect(done.status == .completed && done.progress == 3 && done.message == "warming up")

        let stats = try s.jobStats()
        #expect(
            stats.total == 1 && stats.byStatus[.completed] == 1 && stats.successRate == 1 && stats.activeLeases == 0)
        #expect(try s.accountStats().total == 3 && (try s.accountStats()).byStatus[.pending] == 3)
        let page = try s.accounts(page: 1, limit: 2)
        #expect(page.items.map(\.id) == [3, 2] && page.total == 3 && page.pages == 2)
        #expect(try s.accounts(page: 2, limit: 2).items.map(\.id) == [1])
        #expect(try s.accounts(page: 1, limit: 10, jobID: claimed.id).total == 3)
        #expect(try s.accounts(page: 1, limit: 10, jobID: UUID()).total == 0)
        #expect(try s.jobs(page: 1, limit: 10, status: .completed).items.map(\.id) == [claimed.id])
        #expect(try s.jobs(page: 1, limit: 10, status: .pending).total == 0)
        let events = try f.store.log.readStream(Streams.job(claimed.id)).map(\.type)
        // The heartbeat right after the claim renewed in memory (the recorded lease had plenty left).
        #expect(events == ["JobCreated", "JobClaimed", "ProgressUpdated", "JobCompleted"])
    }

    @Test("the queue serves higher priority first, FIFO within a priority, requeued jobs at the head")
    func queueOrder() async throws {
        let f = try await DomainFixture.make(maxAttempts: 3)
        let s = f.service
        let low1 = try await s.createJob(CreateJob(count: 1, priority: 0))
        let high1 = try await s.createJob(CreateJob(count: 1, priority: 2))
        let low2 = try await s.createJob(CreateJob(count: 1, priority: 0))
        let high2 = try await s.createJob(CreateJob(count: 1, priority: 2))
        #expect(try s.queue().map(\.id) == [high1.id, high2.id, low1.id, low2.id])
        let first = try #require(try await s.claimNext(workerID: "w"))
        #expect(first.id == high1.id)
        _ = try await s.fail(jobID: first.id, workerID: "w", error: "try again", retry: true)
        #expect(try s.queue().map(\.id) == [high1.id, high2.id, low1.id, low2.id])
        #expect(try s.jobStats().queueDepthByPriority[2] == 2)
    }

    @Test("an expired lease puts the job back at the head; after MAX_ATTEMPTS it fails and says why")
    func leaseExpiry() async throws {
        let f = try await DomainFixture.make(leaseSeconds: 30, maxAttempts: 2)
        let s = f.service
        let job = try await s.createJob(CreateJob(count: 1))
        let other = try await s.createJob(CreateJob(count: 1))
        _ = try await s.claimNext(workerID: "w1")
        #expect(try await s.expireDueLeases() == 0)
        f.clock.advance(seconds: 31)
        await #expect(throws: DomainError.self) { _ = try await s.heartbeat(jobID: job.id, workerID: "w1") }
        #expect(try await s.expireDueLeases() == 1)
        #expect(try s.job(job.id)?.status == .pending)
        #expect(try s.queue().map(\.id) == [job.id, other.id])
        _ = try await s.claimNext(workerID: "w2")
        f.clock.advance(seconds: 31)
        #expect(try await s.expireDueLeases() == 1)
        let failed = try #require(try s.job(job.id))
        #expect(failed.status == .failed && failed.errorMessage?.contains("MAX_ATTEMPTS=2") == true)
        #expect(try s.queue().map(\.id) == [other.id])
        #expect(try s.jobStats().activeLeases == 0)
    }

    @Test("a second worker cannot touch a claimed job; a cancelled job answers its worker with a conflict")
    func otherWorkerAndCancel() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        let job = try await s.createJob(CreateJob(count: 2))
        _ = try await s.claimNext(workerID: "w1")
        await #expect(throws: DomainError.self) { _ = try await s.heartbeat(jobID: job.id, workerID: "w2") }
        await #expect(throws: DomainError.self) { _ = try await s.recordAccount(account(job.id, worker: "w2", 1)) }
        await #expect(throws: DomainError.preconditionFailed(expected: "\"1\"", actual: "\"2-0\"")) {
            _ = try await s.cancel(jobID: job.id, expectedVersion: 1)
        }
        _ = try await s.cancel(jobID: job.id, expectedVersion: 2, reason: "no longer needed")
        // The holder's heartbeat appends nothing and shows the cancel; any other call is refused.
        let head = try f.store.log.head().sequence
        #expect(try await s.heartbeat(jobID: job.id, workerID: "w1").status == .cancelled)
        #expect(try f.store.log.head().sequence == head)
        await #expect(
            throws: DomainError.conflict("job \(job.id.text) was cancelled: stop working on it", kind: .jobCancelled)
        ) {
            _ = try await s.complete(jobID: job.id, workerID: "w1")
        }
        await #expect(throws: DomainError.self) { _ = try await s.cancel(jobID: job.id) }
        await #expect(throws: DomainError.notFound(kind: "job", id: "00000000-0000-0000-0000-000000000000")) {
            _ = try await s.cancel(jobID: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        }
    }

    @Test(
        "email and username are unique case-insensitively among live accounts; edits and deletes keep the indexes right"
    )
    func uniqueness() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        let job = try await s.createJob(CreateJob(count: 5))
        _ = try await s.claimNext(workerID: "w")
        let a = try await s.recordAccount(account(job.id, worker: "w", 1, email: "Ann@Example.com", username: "Ann"))
        await #expect(throws: DomainError.validation([FieldError("email", "is already used by account 1")])) {
            _ = try await s.recordAccount(account(job.id, worker: "w", 2, email: "ann@example.COM"))
        }
        await #expect(throws: DomainError.validation([FieldError("username", "is already used by account 1")])) {
            _ = try await s.recordAccount(account(job.id, worker: "w", 2, username: "aNN"))
        }
        let edited = try await s.updateAccount(
            UpdateAccount(accountID: a.id, status: .active, email: "anna@example.com"))
        #expect(edited.status == .active && edited.version == 2)
        _ = try await s.recordAccount(account(job.id, worker: "w", 3, email: "ann@example.com"))
        await #expect(throws: DomainError.preconditionFailed(expected: "\"1\"", actual: "\"2\"")) {
            try await s.deleteAccount(id: a.id, expectedVersion: 1)
        }
        try await s.deleteAccount(id: a.id, expectedVersion: 2)
        #expect(try s.account(a.id) == nil)
        _ = try await s.recordAccount(account(job.id, worker: "w", 4, email: "anna@example.com", username: "ann"))
        #expect(try s.accountStats().total == 2 && (try s.accountStats()).byStatus[.active] == 0)
    }

    @Test("rejected commands leave the log head and every projection unchanged")
    func rejectionsChangeNothing() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        let job = try await s.createJob(CreateJob(count: 1))
        _ = try await s.claimNext(workerID: "w")
        _ = try await s.recordAccount(account(job.id, worker: "w", 1))
        let before = try f.snapshot()
        let attempts: [@Sendable () async throws -> Void] = [
            { _ = try await s.createJob(CreateJob(count: 0)) },
            { _ = try await s.createJob(CreateJob(jobID: job.id, count: 1)) },
            { _ = try await s.recordAccount(account(job.id, worker: "w", 2)) },
            { _ = try await s.recordAccount(account(job.id, worker: "x", 2)) },
            { _ = try await s.reportProgress(ReportProgress(jobID: job.id, workerID: "w", progress: 0)) },
            { _ = try await s.updateAccount(UpdateAccount(accountID: 1)) },
            { _ = try await s.updateAccount(UpdateAccount(accountID: 99, status: .active)) },
            { try await s.deleteAccount(id: 99) },
            { _ = try await s.expireLease(jobID: job.id) },
            { _ = try await s.claimNext(workerID: "") },
            { _ = try await s.fail(jobID: job.id, workerID: "w", error: "", retry: false) },
        ]
        for attempt in attempts {
            await #expect(throws: DomainError.self) { try await attempt() }
        }
        let after = try f.snapshot()
        #expect(after.head == before.head)
        #expect(after.digests == before.digests)
    }

    @Test("commands in one batch see each other: 12 concurrent records on a job of 10 give exactly 10 accounts")
    func batchSeesItself() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        let job = try await s.createJob(CreateJob(count: 10))
        _ = try await s.claimNext(workerID: "w")
        let results = await withTaskGroup(of: Int64?.self) { group in
            for n in 1...12 { group.addTask { try? await s.recordAccount(account(job.id, worker: "w", n)).id } }
            return await group.reduce(into: [Int64]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(results.sorted() == Array(1...10))
        #expect(try s.job(job.id)?.progress == 10)
    }

    @Test("a rebuild reproduces the live projections byte for byte")
    func rebuildEqualsLive() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        for n in 0..<5 {
            _ = try await s.createJob(CreateJob(count: 2, priority: n % 3))
            if n % 2 == 0, let claimed = try await s.claimNext(workerID: "w\(n)") {
                _ = try await s.recordAccount(account(claimed.id, worker: "w\(n)", n))
            }
        }
        let live = try f.snapshot()
        let report = try await s.rebuild()
        #expect(report.events == live.head)
        #expect(try f.snapshot().digests == live.digests)
    }
}

@Suite("Catch-up")
struct CatchUpTests {
    @Test("events appended to the log alone are applied when the service opens")
    func catchUp() async throws {
        let folder = TestSupport.TemporaryFolder()
        let path = folder.file("botrix.mdb")
        let job = UUID()
        do {
            let store = try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync))
            let writer = try store.makeWriter()
            let event = DomainEvent.jobCreated(
                JobCreated(jobID: job, count: 2, priority: 1, verificationEnabled: false))
            _ = try await writer.append(
                AppendRequest(
                    stream: event.stream, events: [ProposedEvent(type: event.type, data: try event.encodedData())]))
            await writer.shutdown()
            // The log is one ahead of the projections until a service catches them up.
            let status = try store.status()
            #expect(status.head.sequence == 1 && status.events == 1)
            #expect(status.lag == 1)
            #expect(status.jobs.total == 0)
        }
        let store = try TestSupport.retryingWhileOpen {
            try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync))
        }
        let service = try await BotrixService(store: store, writer: store.makeWriter())
        #expect(try service.job(job)?.status == .pending)
        #expect(try service.queue().map(\.id) == [job])
        #expect(
            try store.environment.read { try service.projections.checkpoints(in: $0) } == ["jobs": 1, "accounts": 1])
        let status = try service.status()
        #expect(status.lag == 0)
        #expect(status.checkpoints == ["jobs": 1, "accounts": 1])
        #expect(status.jobs == (try service.jobStats()))
        #expect(status.jobs.byStatus[.pending] == 1 && status.jobs.queueDepthByPriority[1] == 1)
    }

    @Test("progress reported ahead does not block recording the remaining accounts")
    func progressAhead() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 3))
        let claim = try #require(try await f.service.claim(workerID: "w"))
        let ahead = try await f.service.reportProgress(
            ReportProgress(jobID: job.id, workerID: "w", progress: 3, claimToken: claim.claimToken))
        #expect(ahead.progress == 3 && ahead.accountsRecorded == 0)
        for n in 0..<3 {
            var command = account(job.id, worker: "w", n)
            command.claimToken = claim.claimToken
            _ = try await f.service.recordAccount(command)
        }
        let done = try #require(try f.service.job(job.id))
        #expect(done.accountsRecorded == 3 && done.progress == 3)
        var extra = account(job.id, worker: "w", 9)
        extra.claimToken = claim.claimToken
        await #expect(throws: DomainError.self) { _ = try await f.service.recordAccount(extra) }
    }
}
