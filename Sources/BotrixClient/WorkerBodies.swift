// The request bodies of the worker calls, with the API's snake_case names. Optional
// members left nil are left out of the JSON (the server refuses unknown fields, not
// missing optional ones).

/// `POST /api/queue/claim`.
struct ClaimBody: Encodable {
    var workerID: String
    var leaseSeconds: Int?
    var waitSeconds: Int?
    var maxJobs: Int?

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case leaseSeconds = "lease_seconds"
        case waitSeconds = "wait_seconds"
        case maxJobs = "max_jobs"
    }
}

/// `POST /api/jobs/{id}/heartbeat`.
struct HeartbeatBody: Encodable {
    var workerID: String
    var claimToken: String
    var leaseSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case claimToken = "claim_token"
        case leaseSeconds = "lease_seconds"
    }
}

/// `POST /api/jobs/{id}/progress`.
struct ProgressBody: Encodable {
    var workerID: String
    var claimToken: String
    var progress: Int?
    var successful: Int?
    var failed: Int?
    var message: String?

    enum CodingKeys: String, CodingKey {
        case progress, successful, failed, message
        case workerID = "worker_id"
        case claimToken = "claim_token"
    }
}

/// `POST /api/jobs/{id}/accounts`: the attempt and the account's fields, side by side.
struct RecordAccountBody: Encodable {
    var workerID: String
    var claimToken: String
    var email: String
    var username: String
    var password: String
    var birthdate: String
    var verificationCode: String?
    var status: AccountStatus?
    var accountData: [String: JSONValue]?

    init(_ claim: some ClaimReference, _ account: NewAccount) {
        workerID = claim.workerID
        claimToken = claim.claimToken
        email = account.email
        username = account.username
        password = account.password
        birthdate = account.birthdate
        verificationCode = account.verificationCode
        status = account.status
        accountData = account.accountData
    }

    enum CodingKeys: String, CodingKey {
        case email, username, password, birthdate, status
        case workerID = "worker_id"
        case claimToken = "claim_token"
        case verificationCode = "verification_code"
        case accountData = "account_data"
    }
}

/// `POST /api/jobs/{id}/complete`.
struct WorkerCallBody: Encodable {
    var workerID: String
    var claimToken: String

    enum CodingKeys: String, CodingKey {
        case workerID = "worker_id"
        case claimToken = "claim_token"
    }
}

/// `POST /api/jobs/{id}/fail`.
struct FailBody: Encodable {
    var workerID: String
    var claimToken: String
    var error: String
    var retry: Bool

    enum CodingKeys: String, CodingKey {
        case error, retry
        case workerID = "worker_id"
        case claimToken = "claim_token"
    }
}

/// `POST /api/jobs/{id}/release`.
struct ReleaseBody: Encodable {
    var workerID: String
    var claimToken: String
    var reason: String?

    enum CodingKeys: String, CodingKey {
        case reason
        case workerID = "worker_id"
        case claimToken = "claim_token"
    }
}
