import EventLog
import Foundation

/// The job's rules as pure functions: state and command in, events out, or a refusal.
/// Every edge of `schemas/job-state-machine.md` is one function here.
public enum JobDecider {
    public static func create(_ command: CreateJob, _ existing: JobView?, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        var checks = FieldChecks()
        checks.require(
            (1...context.maxJobCount).contains(command.count), "count",
            "must be a whole number from 1 to \(context.maxJobCount) (MAX_JOB_COUNT)")
        checks.require(
            Priority.range.contains(command.priority), "priority",
            "must be 0...10 or one of low, normal, high")
        try checks.throwIfAny()
        if existing != nil { throw DomainError.conflict("job \(command.jobID.text) already exists") }
        return [
            .jobCreated(
                JobCreated(
                    jobID: command.jobID, count: command.count, priority: command.priority,
                    verificationEnabled: command.verificationEnabled))
        ]
    }

    /// Leases the job to `workerID` for `leaseSeconds` (LEASE_SECONDS when nil). The
    /// claim records the attempt's token hash and the claiming key.
    public static func claim(
        _ job: JobView, workerID: String, leaseSeconds: Int?, claimTokenHash: String? = nil, apiKey: String? = nil,
        _ context: DecisionContext
    ) throws -> [DomainEvent] {
        try validateWorker(workerID)
        let seconds = leaseSeconds ?? context.leaseSeconds
        var checks = FieldChecks()
        checks.require((1...86_400).contains(seconds), "lease_seconds", "must be 1...86400")
        try checks.throwIfAny()
        guard job.status == .pending else {
            throw DomainError.conflict(
                "job \(job.id.text) is \(job.status.rawValue), not pending: it cannot be claimed")
        }
        return [
            .jobClaimed(
                JobClaimed(
                    jobID: job.id, workerID: workerID, leaseExpiresAt: leaseEnd(seconds, context),
                    attempt: job.attempts + 1, leaseSeconds: seconds, claimTokenHash: claimTokenHash, apiKey: apiKey))
        ]
    }

    /// What a heartbeat decided: the events to append (none, most of the time) and the
    /// lease end (ms) it granted, kept in memory when no event records it.
    public struct Renewal: Sendable, Equatable {
        public var events: [DomainEvent]
        public var until: Int64?
    }

    /// Renews the lease by the length the attempt claimed (or `leaseSeconds`, when the
    /// renewal asks for one). An event records it only when the lease recorded in the log
    /// has less than half a lease length left (see ``LeaseBook``); `renewedUntil` is the
    /// renewal already granted in memory. On a cancelled job the attempt that held it gets
    /// no events and no error: its heartbeat answer tells it to stop.
    public static func heartbeat(
        _ job: JobView, _ call: WorkerCall, leaseSeconds: Int? = nil, renewedUntil: Int64? = nil,
        _ context: DecisionContext
    ) throws -> Renewal {
        if job.status == .cancelled {
            // The attempt cancelled under it learns it from the answer's instruction; any
            // other caller (an attempt that ended before the cancel) gets the 409.
            guard (try? requireAttempt(job, call)) != nil, job.workerID != nil else {
                throw DomainError.conflict(
                    "job \(job.id.text) was cancelled: stop working on it", kind: .jobCancelled)
            }
            return Renewal(events: [], until: nil)
        }
        let seconds = try renewal(job, leaseSeconds, context)
        try requireHolder(job, call, renewedUntil: renewedUntil, context)
        let until = context.leaseNow + Int64(seconds) * 1000
        let recorded = job.leaseExpiresAt.flatMap(Timestamp.parse) ?? 0
        if recorded - context.leaseNow >= Int64(seconds) * 500 { return Renewal(events: [], until: until) }
        return Renewal(
            events: [
                .progressUpdated(
                    ProgressUpdated(jobID: job.id, workerID: call.workerID, leaseExpiresAt: leaseEnd(seconds, context)))
            ], until: until)
    }

    public static func progress(_ job: JobView, _ command: ReportProgress, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        try requireHolder(job, command.call, context)
        var checks = FieldChecks()
        if let p = command.progress {
            checks.require(
                p >= job.progress && p <= job.count, "progress",
                "must be from \(job.progress) (the progress so far) to \(job.count) (the job's count)")
        }
        if let s = command.successful { checks.require(s >= 0, "successful", "must not be negative") }
        if let f = command.failed { checks.require(f >= 0, "failed", "must not be negative") }
        if let m = command.message {
            checks.require(m.utf8.count <= 1000, "message", "must be at most 1000 bytes of UTF-8")
        }
        try checks.throwIfAny()
        return [
            .progressUpdated(
                ProgressUpdated(
                    jobID: job.id, workerID: command.workerID, progress: command.progress,
                    successful: command.successful, failed: command.failed, message: command.message,
                    // Renews, and never shortens, the lease the worker holds (`job` counts
                    // renewals granted in memory): the event also makes them durable.
                    leaseExpiresAt: Timestamp.rfc3339(
                        milliseconds: max(
                            job.leaseExpiresAt.flatMap(Timestamp.parse) ?? 0,
                            context.leaseNow + Int64(try renewal(job, nil, context)) * 1000))))
        ]
    }

    public static func complete(_ job: JobView, _ call: WorkerCall, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        try requireHolder(job, call, context)
        return [.jobCompleted(JobCompleted(jobID: job.id, workerID: call.workerID))]
    }

    public static func fail(
        _ job: JobView, _ call: WorkerCall, error: String, retry: Bool, _ context: DecisionContext
    ) throws -> [DomainEvent] {
        try requireHolder(job, call, context)
        var checks = FieldChecks()
        checks.require(!error.isEmpty && error.utf8.count <= 2000, "error", "must be 1 to 2000 bytes of UTF-8")
        try checks.throwIfAny()
        let requeued = retry && job.attempts < context.maxAttempts
        let text =
            retry && !requeued
            ? "\(error) (no retry left: \(job.attempts) of MAX_ATTEMPTS=\(context.maxAttempts) attempts used)" : error
        let delay = requeued ? retryDelay(job, context) : 0
        let availableAt = delay > 0 ? Timestamp.rfc3339(milliseconds: context.leaseNow + delay) : nil
        return [
            .jobFailed(
                JobFailed(
                    jobID: job.id, workerID: call.workerID, error: text, requeued: requeued, availableAt: availableAt))
        ]
    }

    /// The wait (ms) before a failed job's next attempt: exponential in the attempts used
    /// (base, 2 × base, 4 × base, … up to the cap), with "equal jitter" — half of it fixed,
    /// half spread by the job id and attempt — so jobs that failed together (a service down)
    /// do not all come back in the same millisecond. Derived from the job rather than a
    /// random draw, so a decision is reproducible; the event records the result.
    static func retryDelay(_ job: JobView, _ context: DecisionContext) -> Int64 {
        guard context.retryBackoffBaseSeconds > 0 else { return 0 }
        let doublings = Int64(min(max(job.attempts - 1, 0), 30))
        let full = min(
            Int64(context.retryBackoffMaxSeconds) * 1000, Int64(context.retryBackoffBaseSeconds) * 1000 << doublings)
        var hasher = FNV1a()
        withUnsafeBytes(of: job.id.uuid) { hasher.add($0) }
        withUnsafeBytes(of: Int64(job.attempts).bigEndian) { hasher.add($0) }
        let spread = Double(hasher.value >> 11) / Double(1 << 53)  // 0 ..< 1
        return full / 2 + Int64(spread * Double(full - full / 2))
    }

    /// Gives the job back unfinished: it returns to the head of its priority and the
    /// attempt is not counted against MAX_ATTEMPTS.
    public static func release(_ job: JobView, _ call: WorkerCall, reason: String?, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        try requireHolder(job, call, context)
        var checks = FieldChecks()
        if let reason { checks.require(reason.utf8.count <= 1000, "reason", "must be at most 1000 bytes of UTF-8") }
        try checks.throwIfAny()
        return [.jobReleased(JobReleased(jobID: job.id, workerID: call.workerID, reason: reason))]
    }

    /// The older `PUT /api/jobs/{id}`: progress and an outcome in one decision, so one
    /// append carries both (or neither). Without a worker id or token it acts only on a
    /// claim made before claim tokens (anything else would act for whoever holds it now).
    public static func legacyUpdate(
        _ job: JobView, _ call: WorkerCall, progress: Int?, status: String?, error: String?,
        _ context: DecisionContext
    ) throws -> [DomainEvent] {
        var call = call
        if call.workerID.isEmpty {
            guard call.claimToken == nil, job.claimTokenHash == nil, let holder = job.workerID else {
                throw DomainError.conflict(
                    "name the worker (worker_id) and send the claim_token of its attempt: PUT without them cannot tell attempts apart",
                    kind: .tokenRequired)
            }
            call.workerID = holder
        }
        var events: [DomainEvent] = []
        if let progress {
            events += try Self.progress(
                job,
                ReportProgress(
                    jobID: job.id, workerID: call.workerID, progress: progress, claimToken: call.claimToken,
                    apiKey: call.apiKey), context)
        }
        switch status {
        case "completed": events += try complete(job, call, context)
        case "failed":
            events += try fail(
                job, call, error: error ?? "failed (reported through PUT /api/jobs)", retry: false, context)
        default: if events.isEmpty { try requireHolder(job, call, context) }
        }
        return events
    }

    public static func cancel(
        _ job: JobView, expectedVersion: UInt64?, expectedProgress: Int? = nil, reason: String?
    ) throws -> [DomainEvent] {
        if let expectedVersion,
            expectedVersion != job.version || (expectedProgress.map { $0 != job.accountsRecorded } ?? false)
        {
            let sent = expectedProgress.map { "\"\(expectedVersion)-\($0)\"" } ?? "\"\(expectedVersion)\""
            throw DomainError.preconditionFailed(
                expected: sent, actual: "\"\(job.version)-\(job.accountsRecorded)\"")
        }
        guard !job.status.isFinished else {
            throw DomainError.conflict("job \(job.id.text) is already \(job.status.rawValue) and cannot be cancelled")
        }
        return [.jobCancelled(JobCancelled(jobID: job.id, reason: reason))]
    }

    /// Puts a retry whose backoff is over (by the lease clock) back in the queue.
    public static func retryDue(_ job: JobView, _ context: DecisionContext) throws -> [DomainEvent] {
        guard job.status == .pending, let text = job.availableAt, let at = Timestamp.parse(text),
            at <= context.leaseNow
        else { throw DomainError.conflict("job \(job.id.text) has no retry whose backoff is over") }
        return [.jobRetryDue(JobRetryDue(jobID: job.id, availableAt: text))]
    }

    /// Appends nothing unless the lease really ran out by the batch's clock — counting a
    /// renewal granted in memory (`renewedUntil`).
    public static func expireLease(_ job: JobView, renewedUntil: Int64? = nil, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        guard job.status == .running, let workerID = job.workerID, let recorded = job.leaseExpiresAt,
            let expires = Timestamp.parse(recorded), max(expires, renewedUntil ?? 0) <= context.leaseNow
        else { throw DomainError.conflict("job \(job.id.text) holds no expired lease") }
        let lease = Timestamp.rfc3339(milliseconds: max(expires, renewedUntil ?? 0))
        let requeued = job.attempts < context.maxAttempts
        var events: [DomainEvent] = [
            .jobLeaseExpired(
                JobLeaseExpired(jobID: job.id, workerID: workerID, leaseExpiresAt: lease, requeued: requeued))
        ]
        if !requeued {
            let reason =
                "lease of worker \(workerID) expired at \(lease) on attempt \(job.attempts) of MAX_ATTEMPTS=\(context.maxAttempts): no attempts left"
            events.append(.jobFailed(JobFailed(jobID: job.id, workerID: workerID, error: reason, requeued: false)))
        }
        return events
    }

    /// Worker ids are the worker's own name: 1...128 printable characters.
    static func validateWorker(_ workerID: String) throws {
        var checks = FieldChecks()
        checks.require(
            !workerID.isEmpty && workerID.utf8.count <= 128 && !workerID.unicodeScalars.contains { $0.value < 0x20 },
            "worker_id", "must be 1...128 printable characters")
        try checks.throwIfAny()
    }

    /// Only the attempt holding a live lease may act on a running job.
    static func requireHolder(
        _ job: JobView, _ call: WorkerCall, renewedUntil: Int64? = nil, _ context: DecisionContext
    ) throws {
        try validateWorker(call.workerID)
        switch job.status {
        case .cancelled:
            throw DomainError.conflict("job \(job.id.text) was cancelled: stop working on it", kind: .jobCancelled)
        case .completed, .failed:
            throw DomainError.conflict("job \(job.id.text) is already \(job.status.rawValue)", kind: .jobFinished)
        case .pending:
            // A token of an earlier attempt: that attempt is over (its lease ran out, or it
            // released or failed the job), and the worker should drop the job.
            if call.claimToken != nil, job.attempts > 0 || job.claimTokenHash != nil {
                throw DomainError.conflict(
                    "stale attempt: job \(job.id.text) went back to the queue (the attempt's lease ran out, or it was released or failed); drop it",
                    kind: .staleAttempt)
            }
            throw DomainError.conflict(
                "job \(job.id.text) is not claimed: claim it from the queue first", kind: .notClaimed)
        case .running: break
        }
        try requireAttempt(job, call)
        if let lease = job.leaseExpiresAt, let expires = Timestamp.parse(lease),
            max(expires, renewedUntil ?? 0) <= context.leaseNow
        {
            let end = Timestamp.rfc3339(milliseconds: max(expires, renewedUntil ?? 0))
            throw DomainError.conflict(
                "the lease of \(call.workerID) on job \(job.id.text) expired at \(end)", kind: .leaseExpired)
        }
    }

    /// The call belongs to the job's current attempt: its token is that attempt's, or —
    /// for a call without a token — its worker id is the holder's and held no earlier
    /// attempt of the job; and it comes from the API key that claimed.
    static func requireAttempt(_ job: JobView, _ call: WorkerCall) throws {
        if let token = call.claimToken {
            guard let expected = job.claimTokenHash, ClaimToken.hash(token) == expected else {
                throw DomainError.conflict(
                    "stale attempt: this claim_token is not the one of job \(job.id.text)'s current attempt (\(job.attempts)); the job was claimed again, or the token is of another job",
                    kind: .staleAttempt)
            }
        }
        guard job.workerID == call.workerID else {
            throw DomainError.conflict(
                "job \(job.id.text) is leased to another worker, not \(call.workerID)", kind: .otherWorker)
        }
        if call.claimToken == nil, job.claimTokenHash != nil, job.holders.dropLast().contains(call.workerID) {
            throw DomainError.conflict(
                "worker \(call.workerID) also held an earlier attempt of job \(job.id.text): send the claim_token of this attempt",
                kind: .tokenRequired)
        }
        if call.claimToken == nil, job.claimTokenHash != nil, job.holdersMayBeIncomplete {
            throw DomainError.conflict(
                "job \(job.id.text) has had too many claimers to tell whether \(call.workerID) held an earlier attempt: send the claim_token of this attempt",
                kind: .tokenRequired)
        }
        if let key = job.claimKey, key != call.apiKey {
            throw DomainError.conflict(
                "job \(job.id.text) was claimed with another API key: only the key that claimed may act for the attempt",
                kind: .otherKey)
        }
    }

    /// The renewal length: the one asked for (1...86400), else the claimed one, else LEASE_SECONDS.
    static func renewal(_ job: JobView, _ requested: Int?, _ context: DecisionContext) throws -> Int {
        if let requested {
            var checks = FieldChecks()
            checks.require((1...86_400).contains(requested), "lease_seconds", "must be 1...86400")
            try checks.throwIfAny()
            return requested
        }
        return job.leaseSeconds ?? context.leaseSeconds
    }

    static func leaseEnd(_ seconds: Int, _ context: DecisionContext) -> String {
        Timestamp.rfc3339(milliseconds: context.leaseNow + Int64(seconds) * 1000)
    }
}

/// 64-bit FNV-1a: a small, stable hash for spreading retries (not for security).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }
}
