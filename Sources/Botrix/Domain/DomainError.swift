/// Why a command was refused. Each maps to one HTTP status (422, 404, 409, 412) and says
/// what to do; a refused command appends nothing.
public enum DomainError: Error, Equatable, CustomStringConvertible {
    /// Input broke a rule; one message per field.
    case validation([FieldError])
    /// No job or account with that id.
    case notFound(kind: String, id: String)
    /// The command does not fit the current state (finished job, not the lease holder, ...).
    case conflict(String)
    /// `If-Match` named a version that is no longer current.
    case preconditionFailed(expected: String, actual: String)

    public var description: String {
        switch self {
        case .validation(let fields):
            return "invalid input: " + fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        case .notFound(let kind, let id): return "no \(kind) with id \(id)"
        case .conflict(let reason): return reason
        case .preconditionFailed(let expected, let actual):
            return "If-Match \(expected) is stale: the current ETag is \(actual); reload and retry"
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
