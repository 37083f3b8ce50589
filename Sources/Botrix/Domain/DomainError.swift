/// Why a command was refused. Each maps to one HTTP status (422, 404, 409, 412) and says
/// what to do; a refused command appends nothing.
public enum DomainError: Error, Equatable, CustomStringConvertible {
    /// Input broke a rule; one message per field.
    case validation([FieldError])
    /// No job or account with that id.
    case notFound(kind: String, id: String)
    /// The command does not fit the current state (finished job, not the lease holder, ...);
    /// `kind` names which, so a client can act on it without reading the sentence.
    case conflict(String, kind: ConflictKind = .state)
    /// `If-Match` named a version that is no longer current.
    case preconditionFailed(expected: String, actual: String)

    public var description: String {
        switch self {
        case .validation(let fields):
            return "invalid input: " + fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        case .notFound(let kind, let id): return "no \(kind) with id \(id)"
        case .conflict(let reason, _): return reason
        case .preconditionFailed(let expected, let actual):
            return "If-Match \(expected) is stale: the current ETag is \(actual); reload and retry"
        }
    }
}

/// Why a worker's (or any) command conflicts with the job's state. The HTTP API answers
/// each as its own problem type (`/problems/<raw value>`), all with status 409.
public enum ConflictKind: String, Sendable, Equatable, CaseIterable {
    /// Any other conflict (a job that already exists, a cancel of a finished job, ...).
    case state = "conflict"
    /// The claim token is not the current attempt's: the job was claimed again.
    case staleAttempt = "stale-attempt"
    /// The attempt's lease ran out: the job may be claimed by another worker.
    case leaseExpired = "lease-expired"
    /// The job was cancelled: stop and report nothing more.
    case jobCancelled = "job-cancelled"
    /// The job is already completed or failed.
    case jobFinished = "job-finished"
    /// The job is pending: claim it first.
    case notClaimed = "not-claimed"
    /// Another worker id holds the job.
    case otherWorker = "leased-to-another-worker"
    /// Another API key made the claim.
    case otherKey = "claimed-by-another-key"
    /// A call without a token from a worker id that also held an earlier attempt.
    case tokenRequired = "claim-token-required"

    /// The problem's title.
    public var title: String {
        switch self {
        case .state: "Conflict"
        case .staleAttempt: "Stale attempt"
        case .leaseExpired: "Lease expired"
        case .jobCancelled: "Job cancelled"
        case .jobFinished: "Job finished"
        case .notClaimed: "Job not claimed"
        case .otherWorker: "Leased to another worker"
        case .otherKey: "Claimed by another key"
        case .tokenRequired: "Claim token required"
        }
    }
}

/// One field's problem, as the API's `errors` array shows it.
public struct FieldError: Sendable, Equatable, Codable {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// Collects field errors and throws them together, so a caller fixes everything at once.
struct FieldChecks {
    private(set) var errors: [FieldError] = []

    mutating func require(_ condition: Bool, _ field: String, _ message: @autoclosure () -> String) {
        if !condition { errors.append(FieldError(field, message())) }
    }

    func throwIfAny() throws {
        if !errors.isEmpty { throw DomainError.validation(errors) }
    }
}
