public import EventLog
public import Foundation

/// A job as the API shows it, and the state `decide` reads: one row of the `jobs`
/// projection, folded from the job's events by ``evolve(_:_:_:)``.
public struct JobView: Codable, Sendable, Equatable {
    @LowercaseUUID public var id: UUID
    public var count: Int
    public var status: JobStatus
    public var progress: Int
    public var successful: Int
    public var failed: Int
    public var priority: Int
    public var verificationEnabled: Bool
    public var errorMessage: String?
    public var message: String?
    public var attempts: Int
    public var workerID: String?
    public var leaseExpiresAt: String?
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var completedAt: String?
    /// The job's stream version: its ETag.
    public var version: UInt64
    /// The log sequence of its `JobCreated`: its place in FIFO order.
    public var createdSequence: UInt64
    /// True after a requeue: it goes to the head of its priority.
    public var requeued: Bool
    /// The lease length of the current attempt's claim (nil: claimed before it was kept;
    /// renewals then use LEASE_SECONDS).
    public var leaseSeconds: Int? = nil
    /// SHA-256 (hex) of the current attempt's claim token (nil: claimed before tokens).
    public var claimTokenHash: String? = nil
    /// The API key that made the current claim (nil in open mode).
    public var claimKey: String? = nil
    /// Accounts recorded for the job (`AccountCreated`), apart from the progress a worker
    /// reports: reporting ahead never blocks recording the rest.
    public var accountsRecorded: Int = 0
    /// The worker id of the claims so far, in order (the current holder last): a worker id
    /// that held an earlier attempt is ambiguous without its claim token. Bounded by
    /// ``keptHolders`` (see ``boundedHolders(_:)``): releases do not count as attempts, so a
    /// claim/release loop would otherwise grow the job's row without end.
    public var holders: [String] = []
    /// A pending job failed with retry waits until then (its backoff) before it can be
    /// claimed; nil: claimable at once. Cleared by the next claim.
    public var availableAt: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, count, status, progress, successful, failed, priority, message, attempts, version, requeued
        case verificationEnabled = "verification_enabled", errorMessage = "error_message"
        case workerID = "worker_id", leaseExpiresAt = "lease_expires_at", createdAt = "created_at"
        case updatedAt = "updated_at", startedAt = "started_at", completedAt = "completed_at"
        case createdSequence = "created_sequence"
    }

    /// Folds one event of this job's stream into its state. Pure: reads only the event,
    /// its recorded time and its sequence, so a rebuild reproduces every byte.
    public static func evolve(_ state: JobView?, _ event: DomainEvent, _ recorded: EventPosition) -> JobView? {
        if let created = created(by: event, recorded) { return created }
        guard var job = state else { return nil }
        job.fold(event, recorded)
        return job
    }

    /// ``evolve(_:_:_:)`` of an existing job, changing it where it is: a replay folds many
    /// events into one job it keeps in memory, and a copy of the view per event (a score of
    /// reference-counted fields) was a large part of its work.
    public static func evolve(_ job: inout JobView, _ event: DomainEvent, _ recorded: EventPosition) {
        if let created = created(by: event, recorded) {
            job = created
        } else {
            job.fold(event, recorded)
        }
    }

    /// The job a `JobCreated` makes (whatever came before it), or nil for any other event.
    private static func created(by event: DomainEvent, _ recorded: EventPosition) -> JobView? {
        guard case .jobCreated(let e) = event else { return nil }
        let time = recorded.recordedTime
        return JobView(
            id: e.jobID, count: e.count, status: .pending, progress: 0, successful: 0, failed: 0,
            priority: e.priority, verificationEnabled: e.verificationEnabled, errorMessage: nil, message: nil,
            attempts: 0, workerID: nil, leaseExpiresAt: nil, createdAt: time, updatedAt: time, startedAt: nil,
            completedAt: nil, version: recorded.version, createdSequence: recorded.sequence, requeued: false)
    }

    /// Folds an event other than `JobCreated` into this job.
    private mutating func fold(_ event: DomainEvent, _ recorded: EventPosition) {
        let time = recorded.recordedTime
        updatedAt = time
        if Streams.isJob(recorded.stream, id) { version = recorded.version }
        switch event {
        case .jobCreated: break
        case .jobClaimed(let e):
            status = .running
            workerID = e.workerID
            leaseExpiresAt = e.leaseExpiresAt
            attempts = e.attempt
            leaseSeconds = e.leaseSeconds
            claimTokenHash = e.claimTokenHash
            claimKey = e.apiKey
            holders.append(e.workerID)
            holders = Self.boundedHolders(holders)
            availableAt = nil
            if startedAt == nil { startedAt = time }
        case .progressUpdated(let e):
            if let p = e.progress { progress = p }
            if let s = e.successful { successful = s }
            if let f = e.failed { failed = f }
            if let m = e.message { message = m }
            if let lease = e.leaseExpiresAt { leaseExpiresAt = lease }
        case .accountCreated:
            accountsRecorded += 1
            progress = max(progress, accountsRecorded)
        case .jobCompleted:
            status = .completed
            completedAt = time
            leaseExpiresAt = nil
        case .jobFailed(let e):
            errorMessage = e.error
            leaseExpiresAt = nil
            if e.requeued {
                status = .pending
                workerID = nil
                requeued = true
                availableAt = e.availableAt
            } else {
                status = .failed
                completedAt = time
            }
        case .jobCancelled(let e):
            status = .cancelled
            completedAt = time
            leaseExpiresAt = nil
            if let reason = e.reason { errorMessage = reason }
        case .jobLeaseExpired(let e):
            leaseExpiresAt = nil
            errorMessage = "lease of worker \(e.workerID) expired at \(e.leaseExpiresAt)"
            if e.requeued {
                status = .pending
                workerID = nil
                requeued = true
            }
        case .jobReleased(let e):
            status = .pending
            workerID = nil
            leaseExpiresAt = nil
            requeued = true
            attempts = max(0, attempts - 1)
            message = e.reason.map { "released by \(e.workerID): \($0)" } ?? "released by \(e.workerID)"
        case .jobRetryDue:
            availableAt = nil
        case .accountUpdated, .accountDeleted:
            break
        }
    }
}

/// Where an event sits in the log: what `evolve` may read besides the payload.
public struct EventPosition: Sendable, Equatable {
    public let sequence: UInt64
    public let stream: String
    public let version: UInt64
    public let recordedAt: Int64
    /// `recordedAt` as the views spell it (RFC 3339, milliseconds, UTC): formatted once
    /// here rather than by each projection that stamps it.
    public let recordedTime: String

    public init(sequence: UInt64, stream: String, version: UInt64, recordedAt: Int64) {
        self.init(
            sequence: sequence, stream: stream, version: version, recordedAt: recordedAt,
            recordedTime: Timestamp.rfc3339(milliseconds: recordedAt))
    }

    public init(_ event: RecordedEvent) {
        self.init(sequence: event.sequence, stream: event.stream, version: event.version, recordedAt: event.recordedAt)
    }

    /// The position of `event`, whose time `earlier` (the position of an event before it)
    /// has already formatted when both were recorded in the same millisecond (events of
    /// one commit share their time): a replay then formats each commit's time once.
    init(_ event: RecordedEvent, after earlier: EventPosition?) {
        guard let earlier, earlier.recordedAt == event.recordedAt else {
            self.init(event)
            return
        }
        self.init(
            sequence: event.sequence, stream: event.stream, version: event.version, recordedAt: event.recordedAt,
            recordedTime: earlier.recordedTime)
    }

    private init(sequence: UInt64, stream: String, version: UInt64, recordedAt: Int64, recordedTime: String) {
        self.sequence = sequence
        self.stream = stream
        self.version = version
        self.recordedAt = recordedAt
        self.recordedTime = recordedTime
    }
}
