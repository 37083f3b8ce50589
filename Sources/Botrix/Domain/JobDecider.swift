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

    public static func claim(
        _ job: JobView, workerID: String, leaseSeconds: Int?, _ context: DecisionContext
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
                    attempt: job.attempts + 1))
        ]
    }

    public static func heartbeat(_ job: JobView, workerID: String, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        try requireHolder(job, workerID, context)
        return [
            .progressUpdated(
                ProgressUpdated(
                    jobID: job.id, workerID: workerID, leaseExpiresAt: leaseEnd(context.leaseSeconds, context)))
        ]
    }

    public static func progress(_ job: JobView, _ command: ReportProgress, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        try requireHolder(job, command.workerID, context)
        var checks = FieldChecks()
        if let p = command.progress {
            checks.require(
                p >= job.progress && p <= job.count, "progress",
                "must be from \(job.progress) (accounts so far) to \(job.count) (the job's count)")
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
                    leaseExpiresAt: leaseEnd(context.leaseSeconds, context)))
        ]
    }

    public static func complete(_ job: JobView, workerID: String, _ context: DecisionContext) throws
        -> [DomainEvent]
    {
        try requireHolder(job, workerID, context)
        return [.jobCompleted(JobCompleted(jobID: job.id, workerID: workerID))]
    }

    public static func fail(
        _ job: JobView, workerID: String, error: String, retry: Bool, _ context: DecisionContext
    ) throws -> [DomainEvent] {
        try requireHolder(job, workerID, context)
        var checks = FieldChecks()
        checks.require(!error.isEmpty && error.utf8.count <= 2000, "error", "must be 1 to 2000 bytes of UTF-8")
        try checks.throwIfAny()
        let requeued = retry && job.attempts < context.maxAttempts
        let text =
            retry && !requeued
            ? "\(error) (no retry left: \(job.attempts) of MAX_ATTEMPTS=\(context.maxAttempts) attempts used)" : error
        return [.jobFailed(JobFailed(jobID: job.id, workerID: workerID, error: text, requeued: requeued))]
    }

    public static func cancel(
        _ job: JobView, expectedVersion: UInt64?, expectedProgress: Int? = nil, reason: String?
    ) throws -> [DomainEvent] {
        if let expectedVersion, expectedVersion != job.version || (expectedProgress.map { $0 != job.progress } ?? false)
        {
            let sent = expectedProgress.map { "\"\(expectedVersion)-\($0)\"" } ?? "\"\(expectedVersion)\""
            throw DomainError.preconditionFailed(expected: sent, actual: "\"\(job.version)-\(job.progress)\"")
        }
        guard !job.status.isFinished else {
            throw DomainError.conflict("job \(job.id.text) is already \(job.status.rawValue) and cannot be cancelled")
        }
        return [.jobCancelled(JobCancelled(jobID: job.id, reason: reason))]
    }

    /// Appends nothing unless the lease really ran out by the batch's clock.
    public static func expireLease(_ job: JobView, _ context: DecisionContext) throws -> [DomainEvent] {
        guard job.status == .running, let workerID = job.workerID, let lease = job.leaseExpiresAt,
            let expires = Timestamp.parse(lease), expires <= context.now
        else { throw DomainError.conflict("job \(job.id.text) holds no expired lease") }
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

    /// Only the worker holding a live lease may act on a running job.
    static func requireHolder(_ job: JobView, _ workerID: String, _ context: DecisionContext) throws {
        try validateWorker(workerID)
        switch job.status {
        case .cancelled: throw DomainError.conflict("job \(job.id.text) was cancelled: stop working on it")
        case .completed, .failed: throw DomainError.conflict("job \(job.id.text) is already \(job.status.rawValue)")
        case .pending: throw DomainError.conflict("job \(job.id.text) is not claimed: claim it from the queue first")
        case .running: break
        }
        guard job.workerID == workerID else {
            throw DomainError.conflict("job \(job.id.text) is leased to another worker, not \(workerID)")
        }
        if let lease = job.leaseExpiresAt, let expires = Timestamp.parse(lease), expires <= context.now {
            throw DomainError.conflict("the lease of \(workerID) on job \(job.id.text) expired at \(lease)")
        }
    }

    static func leaseEnd(_ seconds: Int, _ context: DecisionContext) -> String {
        Timestamp.rfc3339(milliseconds: context.now + Int64(seconds) * 1000)
    }
}
