import EventLog
import Foundation
import Testing

@testable import Botrix

/// The rules without LMDB: pure decide and evolve.
@Suite("Job and account rules")
struct DeciderTests {
    let context = DecisionContext(now: 1_767_323_045_678, leaseSeconds: 60, maxAttempts: 2, maxJobCount: 100)
    let position = EventPosition(sequence: 1, stream: "job-x", version: 1, recordedAt: 1_767_323_045_678)

    func created(count: Int = 2) throws -> JobView {
        let id = UUID()
        let events = try JobDecider.create(CreateJob(jobID: id, count: count, priority: 2), nil, context)
        return try #require(JobView.evolve(nil, events[0], position))
    }

    func fold(_ job: JobView, _ events: [DomainEvent]) -> JobView {
        var state: JobView? = job
        for (offset, event) in events.enumerated() {
            state = JobView.evolve(
                state, event,
                EventPosition(
                    sequence: 10 + UInt64(offset), stream: Streams.job(job.id),
                    version: job.version + UInt64(offset) + 1,
                    recordedAt: context.now))
        }
        return state!
    }

    @Test("create validates count and priority with a message per field")
    func createValidation() throws {
        #expect(
            throws: DomainError.validation([
                FieldError("count", "must be a whole number from 1 to 100 (MAX_JOB_COUNT)"),
                FieldError("priority", "must be 0...10 or one of low, normal, high"),
            ])
        ) { _ = try JobDecider.create(CreateJob(count: 101, priority: 11), nil, context) }
        #expect(throws: DomainError.self) { _ = try JobDecider.create(CreateJob(count: 0), nil, context) }
        let job = try created()
        #expect(job.status == .pending && job.count == 2 && job.priority == 2 && job.version == 1)
        #expect(Priority.parse("high") == 2 && Priority.parse("LOW") == 0 && Priority.parse("7") == 7)
        #expect(Priority.parse("11") == nil && Priority.parse("urgent") == nil)
    }

    @Test("claim, progress, record, complete: the happy path folds to completed")
    func happyPath() throws {
        var job = try created()
        job = fold(job, try JobDecider.claim(job, workerID: "w1", leaseSeconds: nil, context))
        #expect(job.status == .running && job.workerID == "w1" && job.attempts == 1)
        #expect(job.leaseExpiresAt == Timestamp.rfc3339(milliseconds: context.now + 60_000))
        job = fold(
            job, try JobDecider.progress(job, ReportProgress(jobID: job.id, workerID: "w1", successful: 1), context))
        #expect(job.successful == 1)
        job = fold(job, try JobDecider.complete(job, WorkerCall(workerID: "w1"), context))
        #expect(job.status == .completed && job.completedAt != nil && job.leaseExpiresAt == nil)
    }

    @Test("only the live lease holder may act, and never on a finished job")
    func holderRules() throws {
        let job = try created()
        #expect(throws: DomainError.self) {
            _ = try JobDecider.heartbeat(job, WorkerCall(workerID: "w1"), leaseSeconds: nil, context)
        }
        let running = fold(job, try JobDecider.claim(job, workerID: "w1", leaseSeconds: nil, context))
        #expect(throws: DomainError.self) {
            _ = try JobDecider.claim(running, workerID: "w2", leaseSeconds: nil, context)
        }
        #expect(throws: DomainError.self) { _ = try JobDecider.complete(running, WorkerCall(workerID: "w2"), context) }
        var later = context
        later.now += 61_000
        later.leaseNow += 61_000
        #expect(
            throws: DomainError.conflict(
                "the lease of w1 on job \(job.id.text) expired at \(running.leaseExpiresAt!)", kind: .leaseExpired)
        ) {
            _ = try JobDecider.heartbeat(running, WorkerCall(workerID: "w1"), leaseSeconds: nil, later)
        }
        let cancelled = fold(running, try JobDecider.cancel(running, expectedVersion: nil, reason: nil))
        #expect(cancelled.status == .cancelled)
        #expect(
            throws: DomainError.conflict("job \(job.id.text) was cancelled: stop working on it", kind: .jobCancelled)
        ) {
            _ = try JobDecider.progress(cancelled, ReportProgress(jobID: job.id, workerID: "w1", progress: 1), context)
        }
        #expect(throws: DomainError.self) { _ = try JobDecider.cancel(cancelled, expectedVersion: nil, reason: nil) }
        #expect(throws: DomainError.self) {
            _ = try JobDecider.claim(cancelled, workerID: "w1", leaseSeconds: nil, context)
        }
        #expect(throws: DomainError.preconditionFailed(expected: "\"1\"", actual: "\"\(running.version)-0\"")) {
            _ = try JobDecider.cancel(running, expectedVersion: 1, reason: nil)
        }
        // The whole ETag: the right version with a stale progress is refused too.
        #expect(throws: DomainError.self) {
            _ = try JobDecider.cancel(running, expectedVersion: running.version, expectedProgress: 1, reason: nil)
        }
        #expect(
            try JobDecider.cancel(running, expectedVersion: running.version, expectedProgress: 0, reason: nil).count
                == 1)
    }

    @Test("progress may not go backwards or past count")
    func progressBounds() throws {
        let job = try created(count: 3)
        let running = fold(job, try JobDecider.claim(job, workerID: "w", leaseSeconds: nil, context))
        #expect(throws: DomainError.self) {
            _ = try JobDecider.progress(running, ReportProgress(jobID: job.id, workerID: "w", progress: 4), context)
        }
        #expect(throws: DomainError.self) {
            _ = try JobDecider.progress(running, ReportProgress(jobID: job.id, workerID: "w", failed: -1), context)
        }
    }

    @Test("an ended attempt's calls name why: stale after a requeue, cancelled after a cancel")
    func endedAttemptConflictKinds() throws {
        func kind(_ body: () throws -> Any) -> ConflictKind? {
            do {
                _ = try body()
                return nil
            } catch DomainError.conflict(_, let kind) {
                return kind
            } catch {
                return nil
            }
        }
        let job = try created()
        let call = WorkerCall(workerID: "w", claimToken: "ct_one")
        let running = fold(
            job,
            try JobDecider.claim(
                job, workerID: "w", leaseSeconds: nil, claimTokenHash: ClaimToken.hash("ct_one"), context))
        var later = context
        later.now += 61_000
        later.leaseNow += 61_000
        let requeued = fold(running, try JobDecider.expireLease(running, later))
        #expect(requeued.status == .pending)
        #expect(
            kind {
                try JobDecider.progress(
                    requeued, ReportProgress(jobID: job.id, workerID: "w", progress: 1, claimToken: "ct_one"), later)
            } == .staleAttempt)
        #expect(kind { try JobDecider.complete(requeued, call, later) } == .staleAttempt)
        // Without a token there is no attempt to speak of: the job is simply not claimed.
        #expect(kind { try JobDecider.complete(requeued, WorkerCall(workerID: "w"), later) } == .notClaimed)
        // Released, then cancelled: the released attempt's heartbeat hears of the cancel.
        let released = fold(running, try JobDecider.release(running, call, reason: nil, context))
        let cancelled = fold(released, try JobDecider.cancel(released, expectedVersion: nil, reason: nil))
        #expect(kind { try JobDecider.heartbeat(cancelled, call, context) } == .jobCancelled)
        // Cancelled under the attempt holding it: its heartbeat answers (instruction cancel).
        let cancelledRunning = fold(running, try JobDecider.cancel(running, expectedVersion: nil, reason: nil))
        #expect(try JobDecider.heartbeat(cancelledRunning, call, context).events.isEmpty)
    }

    @Test("lease expiry requeues while attempts remain, then fails with the reason")
    func leaseExpiry() throws {
        var job = try created()
        var now = context
        for attempt in 1...2 {
            job = fold(job, try JobDecider.claim(job, workerID: "w\(attempt)", leaseSeconds: nil, now))
            #expect(throws: DomainError.self) { _ = try JobDecider.expireLease(job, now) }
            now.now += 60_000
            now.leaseNow += 60_000
            let events = try JobDecider.expireLease(job, now)
            job = fold(job, events)
            if attempt == 1 {
                #expect(events.count == 1 && job.status == .pending && job.requeued)
            } else {
                #expect(events.count == 2 && job.status == .failed)
                #expect(job.errorMessage?.contains("MAX_ATTEMPTS=2") == true)
            }
        }
    }

    @Test("fail with retry requeues until attempts are used up")
    func failRetry() throws {
        var job = try created()
        job = fold(job, try JobDecider.claim(job, workerID: "w", leaseSeconds: nil, context))
        job = fold(job, try JobDecider.fail(job, WorkerCall(workerID: "w"), error: "captcha", retry: true, context))
        #expect(job.status == .pending && job.errorMessage == "captcha")
        job = fold(job, try JobDecider.claim(job, workerID: "w", leaseSeconds: nil, context))
        job = fold(job, try JobDecider.fail(job, WorkerCall(workerID: "w"), error: "captcha", retry: true, context))
        #expect(job.status == .failed && job.errorMessage?.contains("no retry left") == true)
    }

    @Test("account fields are validated one message per field")
    func accountValidation() throws {
        let job = try created()
        let running = fold(job, try JobDecider.claim(job, workerID: "w", leaseSeconds: nil, context))
        let bad = RecordAccount(
            jobID: job.id, workerID: "w", email: "not-an-email", username: "x!", password: "short",
            birthdate: "1899-12-31", accountData: ["pad": .string(String(repeating: "x", count: 17_000))])
        #expect {
            _ = try AccountDecider.record(running, bad, newID: 1, isTaken: { _, _ in nil }, context)
        } throws: { error in
            guard case .validation(let fields) = error as? DomainError else { return false }
            return fields.map(\.field) == ["email", "username", "password", "birthdate", "account_data"]
        }
        for date in ["2026-02-30", "2027-01-01", "1990-5-17", "abcd-ef-gh"] {
            let wrong = RecordAccount(
                jobID: job.id, workerID: "w", email: "a@b.co", username: "abc", password: "12345678", birthdate: date)
            #expect(throws: DomainError.self, "\(date)") {
                _ = try AccountDecider.record(running, wrong, newID: 1, isTaken: { _, _ in nil }, context)
            }
        }
        let good = RecordAccount(
            jobID: job.id, workerID: "w", email: "A@B.co", username: "abc", password: "12345678",
            birthdate: "2000-02-29")
        #expect(throws: DomainError.validation([FieldError("email", "is already used by account 7")])) {
            _ = try AccountDecider.record(
                running, good, newID: 1, isTaken: { field, value in field == "email" && value == "a@b.co" ? 7 : nil },
                context)
        }
        let events = try AccountDecider.record(running, good, newID: 1, isTaken: { _, _ in nil }, context)
        #expect(events.count == 1 && events[0].stream == "account-1")
    }
}
