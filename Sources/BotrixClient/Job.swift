/// Where a job is in its life (`schemas/job-state-machine.md`).
public enum JobStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, running, completed, failed, cancelled
}

/// A job as the server shows it (`GET /api/jobs/{id}`, and inside claims and heartbeats):
/// how many accounts it asks for, how far it got, who holds it and until when.
public struct Job: Sendable, Hashable, Decodable {
    /// The job's UUID.
    public var id: String
    /// Accounts the job asks for.
    public var count: Int
    /// Where the job is in its life.
    public var status: JobStatus
    /// What the worker reported (never below `accountsRecorded`).
    public var progress: Int
    /// Accounts recorded for the job by every attempt so far.
    public var accountsRecorded: Int
    /// Accounts the worker reported as made.
    public var successful: Int
    /// Accounts the worker reported as failed.
    public var failed: Int
    /// 0…10, higher first.
    public var priority: Int
    /// Whether the accounts need verification.
    public var verificationEnabled: Bool
    /// Why the last attempt failed, if it did.
    public var errorMessage: String?
    /// The worker's last message.
    public var message: String?
    /// Claims of the job so far.
    public var attempts: Int
    /// The worker holding (or last holding) the job.
    public var workerID: String?
    /// RFC 3339 UTC; nil unless the job is running.
    public var leaseExpiresAt: String?
    /// When a pending job may be claimed again (servers with retry backoff).
    public var availableAt: String?
    /// When the job was created (RFC 3339 UTC).
    public var createdAt: String
    /// When the job last changed (RFC 3339 UTC).
    public var updatedAt: String
    /// When it was first claimed.
    public var startedAt: String?
    /// When it finished (completed, failed or cancelled).
    public var completedAt: String?
    /// The stream version (first half of the ETag).
    public var version: Int
    /// `progress` over `count`, in percent.
    public var percentage: Double
    /// Seconds from start to finish (or to now while it runs).
    public var durationSeconds: Double?

    /// The job's ETag as the server sends it (`"version-accountsRecorded"`), for `If-Match`.
    public var etag: String { "\"\(version)-\(accountsRecorded)\"" }

    enum CodingKeys: String, CodingKey {
        case id, count, status, progress, successful, failed, priority, message, attempts, version, percentage
        case accountsRecorded = "accounts_recorded"
        case verificationEnabled = "verification_enabled"
        case errorMessage = "error_message"
        case workerID = "worker_id"
        case leaseExpiresAt = "lease_expires_at"
        case availableAt = "available_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case startedAt = "started_at"
        case completedAt = "completed_at"
        case durationSeconds = "duration_seconds"
    }

    /// Lenient where older servers differ: a missing `accounts_recorded` is taken from
    /// `progress`, as the Python client does; missing counters are 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        count = try c.decode(Int.self, forKey: .count)
        status = try c.decode(JobStatus.self, forKey: .status)
        progress = try c.decodeIfPresent(Int.self, forKey: .progress) ?? 0
        accountsRecorded = try c.decodeIfPresent(Int.self, forKey: .accountsRecorded) ?? progress
        successful = try c.decodeIfPresent(Int.self, forKey: .successful) ?? 0
        failed = try c.decodeIfPresent(Int.self, forKey: .failed) ?? 0
        priority = try c.decodeIfPresent(Int.self, forKey: .priority) ?? 0
        verificationEnabled = try c.decodeIfPresent(Bool.self, forKey: .verificationEnabled) ?? false
        errorMessage = try c.decodeIfPresent(String.self, forKey: .errorMessage)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts) ?? 0
        workerID = try c.decodeIfPresent(String.self, forKey: .workerID)
        leaseExpiresAt = try c.decodeIfPresent(String.self, forKey: .leaseExpiresAt)
        availableAt = try c.decodeIfPresent(String.self, forKey: .availableAt)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt) ?? ""
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt) ?? ""
        startedAt = try c.decodeIfPresent(String.self, forKey: .startedAt)
        completedAt = try c.decodeIfPresent(String.self, forKey: .completedAt)
        version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 0
        percentage = try c.decodeIfPresent(Double.self, forKey: .percentage) ?? 0
        durationSeconds = try c.decodeIfPresent(Double.self, forKey: .durationSeconds)
    }
}

/// The answer to `POST /api/jobs`: the new job's id and a message saying what was created.
public struct JobAccepted: Sendable, Hashable, Decodable {
    /// The new job's UUID.
    public var jobID: String
    /// `pending`.
    public var status: JobStatus
    /// Accounts the job asks for.
    public var count: Int
    /// What was created, in words.
    public var message: String

    enum CodingKeys: String, CodingKey {
        case status, count, message
        case jobID = "job_id"
    }
}

/// A job's priority as `POST /api/jobs` takes it: 0…10, or a name. Exists so callers can
/// write `3` or `.high` and the body carries what the API expects.
public enum Priority: Sendable, Hashable, Encodable, ExpressibleByIntegerLiteral {
    /// 0 (lowest) … 10 (highest).
    case level(Int)
    /// The server's `low` (0).
    case low
    /// The server's `normal` (1, the default).
    case normal
    /// The server's `high` (2).
    case high

    /// `3` is `.level(3)`.
    public init(integerLiteral value: Int) { self = .level(value) }

    /// Writes the number or the name.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .level(let value): try container.encode(value)
        case .low: try container.encode("low")
        case .normal: try container.encode("normal")
        case .high: try container.encode("high")
        }
    }
}
