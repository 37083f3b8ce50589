public import Foundation

/// A job was asked for: `count` accounts at `priority`.
public struct JobCreated: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var count: Int
    public var priority: Int
    public var verificationEnabled: Bool

    public init(
        jobID: UUID, count: Int, priority: Int, verificationEnabled: Bool
    ) {
        self.jobID = jobID
        self.count = count
        self.priority = priority
        self.verificationEnabled = verificationEnabled
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", count, priority, verificationEnabled = "verification_enabled"
    }
}

/// A worker took the job with a lease until `leaseExpiresAt`; `attempt` counts claims.
public struct JobClaimed: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var workerID: String
    public var leaseExpiresAt: String
    public var attempt: Int
    /// The lease length the worker claimed; every renewal extends by it. Absent in claims
    /// recorded before it was kept (they renew by LEASE_SECONDS).
    public var leaseSeconds: Int?
    /// SHA-256 (hex) of the attempt's claim token: audits see which attempt did what; the
    /// token itself is never stored. Absent in claims recorded before tokens existed.
    public var claimTokenHash: String?
    /// The id of the API key that claimed; calls on this attempt must come from it.
    public var apiKey: String?

    public init(
        jobID: UUID, workerID: String, leaseExpiresAt: String, attempt: Int, leaseSeconds: Int? = nil,
        claimTokenHash: String? = nil, apiKey: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.leaseExpiresAt = leaseExpiresAt
        self.attempt = attempt
        self.leaseSeconds = leaseSeconds
        self.claimTokenHash = claimTokenHash
        self.apiKey = apiKey
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", workerID = "worker_id", leaseExpiresAt = "lease_expires_at", attempt
        case leaseSeconds = "lease_seconds", claimTokenHash = "claim_token_sha256", apiKey = "api_key"
    }
}

/// The lease holder reported progress or a heartbeat (no counts); the lease is extended.
public struct ProgressUpdated: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var workerID: String?
    public var progress: Int?
    public var successful: Int?
    public var failed: Int?
    public var message: String?
    public var leaseExpiresAt: String?

    public init(
        jobID: UUID, workerID: String? = nil, progress: Int? = nil, successful: Int? = nil, failed: Int? = nil,
        message: String? = nil, leaseExpiresAt: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.progress = progress
        self.successful = successful
        self.failed = failed
        self.message = message
        self.leaseExpiresAt = leaseExpiresAt
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", workerID = "worker_id", progress, successful, failed, message
        case leaseExpiresAt = "lease_expires_at"
    }
}

/// The lease holder handed back one account it produced.
public struct AccountCreated: Codable, Sendable, Equatable {
    public var accountID: Int64
    @LowercaseUUID public var jobID: UUID
    public var workerID: String
    public var email: String
    public var username: String
    public var password: String
    public var birthdate: String
    public var verificationCode: String?
    public var status: AccountStatus
    public var accountData: JSONObject

    public init(
        accountID: Int64, jobID: UUID, workerID: String, email: String, username: String, password: String,
        birthdate: String, verificationCode: String? = nil, status: AccountStatus, accountData: JSONObject
    ) {
        self.accountID = accountID
        self.jobID = jobID
        self.workerID = workerID
        self.email = email
        self.username = username
        self.password = password
        self.birthdate = birthdate
        self.verificationCode = verificationCode
        self.status = status
        self.accountData = accountData
    }

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", jobID = "job_id", workerID = "worker_id", email, username, password, birthdate
        case verificationCode = "verification_code", status, accountData = "account_data"
    }
}

/// An operator changed some fields of an account; only the changed fields are present.
public struct AccountUpdated: Codable, Sendable, Equatable {
    public var accountID: Int64
    public var status: AccountStatus?
    public var verificationCode: String?
    public var accountData: JSONObject?
    public var password: String?
    public var email: String?
    public var username: String?

    public init(
        accountID: Int64, status: AccountStatus? = nil, verificationCode: String? = nil, accountData: JSONObject? = nil,
        password: String? = nil, email: String? = nil, username: String? = nil
    ) {
        self.accountID = accountID
        self.status = status
        self.verificationCode = verificationCode
        self.accountData = accountData
        self.password = password
        self.email = email
        self.username = username
    }

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", status, verificationCode = "verification_code"
        case accountData = "account_data", password, email, username
    }
}

/// An account was deleted; it leaves every view.
public struct AccountDeleted: Codable, Sendable, Equatable {
    public var accountID: Int64
    @LowercaseUUID public var jobID: UUID

    public init(
        accountID: Int64, jobID: UUID
    ) {
        self.accountID = accountID
        self.jobID = jobID
    }

    enum CodingKeys: String, CodingKey { case accountID = "account_id", jobID = "job_id" }
}

/// The lease holder finished the job.
public struct JobCompleted: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var workerID: String

    public init(
        jobID: UUID, workerID: String
    ) {
        self.jobID = jobID
        self.workerID = workerID
    }

    enum CodingKeys: String, CodingKey { case jobID = "job_id", workerID = "worker_id" }
}

/// The job failed: back to the queue when `requeued`, otherwise finished as failed.
public struct JobFailed: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var workerID: String?
    public var error: String
    public var requeued: Bool
    /// When a requeued job may be claimed again (a retry's backoff); nil: at once.
    public var availableAt: String?

    public init(
        jobID: UUID, workerID: String? = nil, error: String, requeued: Bool, availableAt: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.error = error
        self.requeued = requeued
        self.availableAt = availableAt
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", workerID = "worker_id", error, requeued, availableAt = "available_at"
    }
}

/// An operator cancelled the job; its worker's next call gets 409.
public struct JobCancelled: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var reason: String?

    public init(
        jobID: UUID, reason: String? = nil
    ) {
        self.jobID = jobID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey { case jobID = "job_id", reason }
}

/// The lease holder gave the job back unfinished (it is shutting down, or cannot do it
/// now): the job returns to the head of its priority and the attempt is not counted.
public struct JobReleased: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var workerID: String
    public var reason: String?

    public init(jobID: UUID, workerID: String, reason: String? = nil) {
        self.jobID = jobID
        self.workerID = workerID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey { case jobID = "job_id", workerID = "worker_id", reason }
}

/// A retry's backoff is over: the job joins the queue again (at the head of its
/// priority), so queue depth, `GET /api/queue` and the claim order count it as ready.
/// The lease monitor appends it once `available_at` has passed.
public struct JobRetryDue: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    /// The `available_at` that passed.
    public var availableAt: String

    public init(jobID: UUID, availableAt: String) {
        self.jobID = jobID
        self.availableAt = availableAt
    }

    enum CodingKeys: String, CodingKey { case jobID = "job_id", availableAt = "available_at" }
}

/// The worker's lease ran out: the job goes back to the head of its priority when
/// attempts remain (`requeued`); otherwise a `JobFailed` follows in the same append.
public struct JobLeaseExpired: Codable, Sendable, Equatable {
    @LowercaseUUID public var jobID: UUID
    public var workerID: String
    public var leaseExpiresAt: String
    public var requeued: Bool

    public init(
        jobID: UUID, workerID: String, leaseExpiresAt: String, requeued: Bool
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.leaseExpiresAt = leaseExpiresAt
        self.requeued = requeued
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", workerID = "worker_id", leaseExpiresAt = "lease_expires_at", requeued
    }
}
