import AsyncHTTPClient

/// Everything a Botrix call can fail with, so callers handle one error type: the server's
/// problem answers, failures to reach it, answers it should not have given, and requests
/// the client could not build. Transient ones were already retried before being thrown.
public enum BotrixError: Error, Sendable, CustomStringConvertible {
    /// A 4xx or 5xx answer with an `application/problem+json` body.
    case problem(Problem)
    /// The server could not be reached, or the connection broke before an answer
    /// (connection refused or reset, timeout). The underlying error is kept.
    case transport(any Error)
    /// An answer the client cannot use: an error status without a problem body (a proxy's
    /// page), or a success whose body does not decode. Keeps the status and the body text.
    case unexpected(status: Int, body: String)
    /// The client could not build the request (a body that cannot be encoded, a call that
    /// makes no sense such as recording more accounts than the job asked for).
    case invalidRequest(String)

    /// The HTTP status, when there was an answer.
    public var status: Int? {
        switch self {
        case .problem(let problem): problem.status
        case .unexpected(let status, _): status
        case .transport, .invalidRequest: nil
        }
    }

    /// The problem answer, if this is one.
    public var asProblem: Problem? {
        if case .problem(let problem) = self { return problem }
        return nil
    }

    /// What went wrong in one line: the problem's `detail`, or a description of the failure.
    public var detail: String {
        switch self {
        case .problem(let problem): problem.detail
        case .transport(let error): "cannot reach the server: \(error)"
        case .unexpected(let status, let body): "unexpected answer \(status): \(body.prefix(300))"
        case .invalidRequest(let message): message
        }
    }

    /// Whether the client retries this failure by itself: transport failures (except ones
    /// no retry can fix, such as a malformed URL) and statuses 408, 429, 502, 503, 504, 507.
    public var isTransient: Bool {
        switch self {
        case .problem(let problem): problem.isTransient
        case .unexpected(let status, _): RetryPolicy.isTransient(status: status)
        case .transport(let error): Self.isRetryableTransport(error)
        case .invalidRequest: false
        }
    }

    /// 404 (no such job, account or route).
    public var isNotFound: Bool { status == 404 }

    /// 409: for a worker, this attempt may no longer act on the job; stop working on it.
    public var isConflict: Bool { status == 409 }

    /// Whether a 409 says the job was cancelled (`/problems/job-cancelled`), as opposed to
    /// the attempt having lost it (stale token, lease expired, finished).
    public var saysCancelled: Bool { asProblem?.type.hasSuffix("/job-cancelled") == true }

    /// The problem, or the failure, in one line.
    public var description: String {
        switch self {
        case .problem(let problem): problem.description
        default: detail
        }
    }

    /// Transport failures a retry cannot fix: a bad URL or a client that was shut down.
    static func isRetryableTransport(_ error: any Error) -> Bool {
        guard let error = error as? HTTPClientError else { return true }
        let permanent: [HTTPClientError] = [.invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown]
        return !permanent.contains(error)
    }
}
