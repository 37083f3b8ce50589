/// What every call on a claimed job must name: the job, the worker and the attempt's
/// claim token. A `Claim` is one; `ClaimedAttempt` builds one from stored values (a
/// worker that kept its token across a restart of its own).
public protocol ClaimReference: Sendable {
    /// The claimed job's id.
    var jobID: String { get }
    /// The worker that claimed it.
    var workerID: String { get }
    /// The token naming this attempt.
    var claimToken: String { get }
}

/// One claimed job: the lease on it and the token naming this attempt, which every later
/// call on the job sends (a call with another attempt's token gets 409).
public struct Claim: ClaimReference, Hashable {
    /// The job as it was when claimed.
    public var job: Job
    /// The worker that claimed the job.
    public var workerID: String
    /// Names this attempt; send it with every call on the job.
    public var claimToken: String
    /// 1 for the first claim of the job, 2 for the next…
    public var attempt: Int
    /// The lease length each renewal extends by.
    public var leaseSeconds: Int
    /// When the lease runs out unless renewed (RFC 3339 UTC).
    public var leaseExpiresAt: String?

    /// The claimed job's id.
    public var jobID: String { job.id }

    /// Builds a claim; the client makes these from claim answers.
    public init(
        job: Job, workerID: String, claimToken: String, attempt: Int, leaseSeconds: Int, leaseExpiresAt: String?
    ) {
        self.job = job
        self.workerID = workerID
        self.claimToken = claimToken
        self.attempt = attempt
        self.leaseSeconds = leaseSeconds
        self.leaseExpiresAt = leaseExpiresAt
    }
}

/// A claim known only by its ids and token (e.g. read back from a worker's own storage).
public struct ClaimedAttempt: ClaimReference, Hashable {
    /// The job the attempt is on.
    public var jobID: String
    /// The worker that claimed it.
    public var workerID: String
    /// The attempt's token.
    public var claimToken: String

    /// Names an attempt by its job, worker and token.
    public init(jobID: String, workerID: String, claimToken: String) {
        self.jobID = jobID
        self.workerID = workerID
        self.claimToken = claimToken
    }
}

/// The answer of `POST /api/queue/claim`: one claimed job, or `{"jobs": [...]}` with `max_jobs`.
struct ClaimAnswer: Decodable {
    var jobs: [ClaimedJob]?
    var job: Job?
    var claimToken: String?
    var leaseExpiresAt: String?
    var attempt: Int?
    var leaseSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case jobs, job, attempt
        case claimToken = "claim_token"
        case leaseExpiresAt = "lease_expires_at"
        case leaseSeconds = "lease_seconds"
    }

    /// One entry of `jobs`.
    struct ClaimedJob: Decodable {
        var job: Job
        var claimToken: String
        var leaseExpiresAt: String?
        var attempt: Int?
        var leaseSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case job, attempt
            case claimToken = "claim_token"
            case leaseExpiresAt = "lease_expires_at"
            case leaseSeconds = "lease_seconds"
        }
    }

    /// The claims of the answer (none when it carries no job).
    func claims(workerID: String) -> [Claim] {
        if let jobs {
            return jobs.map {
                Claim(
                    job: $0.job, workerID: workerID, claimToken: $0.claimToken, attempt: $0.attempt ?? 1,
                    leaseSeconds: $0.leaseSeconds ?? 0, leaseExpiresAt: $0.leaseExpiresAt)
            }
        }
        guard let job, let claimToken else { return [] }
        return [
            Claim(
                job: job, workerID: workerID, claimToken: claimToken, attempt: attempt ?? 1,
                leaseSeconds: leaseSeconds ?? 0, leaseExpiresAt: leaseExpiresAt)
        ]
    }
}
