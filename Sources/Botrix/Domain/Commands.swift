public import Foundation
public import JSONCoding

/// What `decide` may read besides the state: the batch's clock and the settings.
public struct DecisionContext: Sendable {
    /// Milliseconds since 1970: the writer's clock for this batch.
    public var now: Int64
    public var leaseSeconds: Int
    public var maxAttempts: Int
    public var maxJobCount: Int
    /// Priority aging: a waiting job gains one priority level per this many seconds (0: off).
    public var queueAgingSeconds: Int
    /// Milliseconds on the lease clock: what lease ends are computed from and compared
    /// with. In the server it runs on a monotonic clock, so a step of the system clock
    /// neither expires every lease at once nor stretches them (see ``LeaseClock``).
    public var leaseNow: Int64
    /// Retries with backoff: a job failed with `retry` waits about this many seconds
    /// before its second attempt, twice as long before each later one (0: no wait).
    public var retryBackoffBaseSeconds: Int
    /// The longest wait a retry's backoff reaches.
    public var retryBackoffMaxSeconds: Int

    public init(
        now: Int64, leaseSeconds: Int = 300, maxAttempts: Int = 3, maxJobCount: Int = 100, queueAgingSeconds: Int = 0,
        leaseNow: Int64? = nil, retryBackoffBaseSeconds: Int = 0, retryBackoffMaxSeconds: Int = 600
    ) {
        self.now = now
        self.leaseSeconds = leaseSeconds
        self.maxAttempts = maxAttempts
        self.maxJobCount = maxJobCount
        self.queueAgingSeconds = queueAgingSeconds
        self.leaseNow = leaseNow ?? now
        self.retryBackoffBaseSeconds = retryBackoffBaseSeconds
        self.retryBackoffMaxSeconds = retryBackoffMaxSeconds
    }
}

/// Ask for `count` accounts. The id is chosen by the caller so `decide` stays pure.
public struct CreateJob: Sendable, Equatable {
    public var jobID: UUID
    public var count: Int
    public var priority: Int
    public var verificationEnabled: Bool

    public init(jobID: UUID = UUID(), count: Int, priority: Int = 1, verificationEnabled: Bool = false) {
        self.jobID = jobID
        self.count = count
        self.priority = priority
        self.verificationEnabled = verificationEnabled
    }
}

/// The lease holder's report; absent fields are unchanged.
public struct ReportProgress: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String
    public var progress: Int?
    public var successful: Int?
    public var failed: Int?
    public var message: String?
    /// The attempt's claim token (see ``WorkerCall``).
    public var claimToken: String?
    /// The API key that sent it (the service sets it from the request's metadata).
    public var apiKey: String?

    public init(
        jobID: UUID, workerID: String, progress: Int? = nil, successful: Int? = nil, failed: Int? = nil,
        message: String? = nil, claimToken: String? = nil, apiKey: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.progress = progress
        self.successful = successful
        self.failed = failed
        self.message = message
        self.claimToken = claimToken
        self.apiKey = apiKey
    }

    /// Who reports.
    public var call: WorkerCall { WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: apiKey) }
}

/// One account a worker produced for its claimed job.
public struct RecordAccount: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String
    public var email: String
    public var username: String
    public var password: String
    public var birthdate: String
    public var verificationCode: String?
    public var status: AccountStatus
    public var accountData: JSONObject
    /// The attempt's claim token (see ``WorkerCall``).
    public var claimToken: String?
    /// The API key that sent it (the service sets it from the request's metadata).
    public var apiKey: String?

    /// Who records.
    public var call: WorkerCall { WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: apiKey) }

    public init(
        jobID: UUID, workerID: String, email: String, username: String, password: String, birthdate: String,
        verificationCode: String? = nil, status: AccountStatus = .pending, accountData: JSONObject = [:],
        claimToken: String? = nil
    ) {
        self.claimToken = claimToken
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
}

/// An operator's edit of an account; absent fields are unchanged.
public struct UpdateAccount: Sendable, Equatable {
    public var accountID: Int64
    public var expectedVersion: UInt64?
    public var status: AccountStatus?
    public var verificationCode: String?
    public var accountData: JSONObject?
    public var password: String?
    public var email: String?
    public var username: String?

    public init(
        accountID: Int64, expectedVersion: UInt64? = nil, status: AccountStatus? = nil,
        verificationCode: String? = nil, accountData: JSONObject? = nil, password: String? = nil,
        email: String? = nil, username: String? = nil
    ) {
        self.accountID = accountID
        self.expectedVersion = expectedVersion
        self.status = status
        self.verificationCode = verificationCode
        self.accountData = accountData
        self.password = password
        self.email = email
        self.username = username
    }
}
