/// An RFC 9457 problem the server answered with (`application/problem+json`): every 4xx
/// and 5xx of Botrix carries one, and a caller decides what to do from its `status`,
/// `type` and `detail` rather than from parsing text.
public struct Problem: Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status of the answer (e.g. 404, 409, 422).
    public var status: Int
    /// The problem type, e.g. `/problems/not-found`, `/problems/conflict`.
    public var type: String
    /// A short summary of the problem type.
    public var title: String
    /// What went wrong, in words a person can act on.
    public var detail: String
    /// The request path the problem is about.
    public var instance: String?
    /// The server's request id, to find the request in its logs.
    public var requestID: String?
    /// One entry per invalid field (422 validation problems).
    public var errors: [FieldError]
    /// How long the server asked the client to wait (`Retry-After`), if it said.
    public var retryAfter: Duration?

    /// Builds a problem; the client makes these from answers, tests and callers may too.
    public init(
        status: Int, type: String, title: String, detail: String, instance: String? = nil,
        requestID: String? = nil, errors: [FieldError] = [], retryAfter: Duration? = nil
    ) {
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.requestID = requestID
        self.errors = errors
        self.retryAfter = retryAfter
    }

    /// 404: no such job, account or route.
    public var isNotFound: Bool { status == 404 }
    /// 409: the command does not fit the job's state. For a worker: this attempt may no
    /// longer act on the job (stale claim token, cancelled, finished, lease lost).
    public var isConflict: Bool { status == 409 }
    /// 412: an `If-Match` named a stale version.
    public var isPreconditionFailed: Bool { status == 412 }
    /// 422: validation failed (see `errors`) or an idempotency key was reused.
    public var isValidation: Bool { status == 422 }
    /// 422 `/problems/idempotency-key-reused`: the same key was sent with another body.
    public var isIdempotencyKeyReused: Bool { status == 422 && type.hasSuffix("idempotency-key-reused") }
    /// 429: a rate limit or too many waiting claims.
    public var isRateLimited: Bool { status == 429 }
    /// Whether the client retries this answer by itself (408, 429, 502, 503, 504, 507).
    public var isTransient: Bool { RetryPolicy.isTransient(status: status) }

    /// `status [type] detail`, for logs.
    public var description: String { "\(status) [\(type)] \(detail)" }
}

/// One invalid field of a 422 answer: which field, and what it must be.
public struct FieldError: Sendable, Hashable, Decodable {
    /// The body field (or query parameter) at fault.
    public var field: String
    /// What the field must be.
    public var message: String

    /// Builds a field error.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
