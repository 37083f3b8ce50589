public import AsyncHTTPClient
public import Logging

/// Talks to one Botrix server over HTTP: the operator calls (jobs, accounts, stats,
/// health) and the low-level worker calls (claim, heartbeat, accounts, outcome).
///
/// It exists so Swift programs get the guarantees of the Python client without writing
/// them again: every call retries transient failures (connection errors, timeouts, 408,
/// 429, 502, 503, 504, 507) with backoff and jitter, waiting at least the server's
/// `Retry-After`; and every write carries an `Idempotency-Key`, generated once per call
/// and reused across its retries, so a retry after a lost answer replays the first
/// answer instead of acting twice. Failures are thrown as ``BotrixError``.
///
/// The client is a value; copies share the `HTTPClient` (and its connection pool), which
/// the caller owns: this type never shuts it down.
public struct BotrixClient: Sendable {
    /// The server's address without a trailing slash, e.g. `http://127.0.0.1:8080`.
    public let baseURL: String
    /// A `btx_…` API key sent as a bearer token; nil for an open development server.
    public let apiKey: String?
    /// The HTTP client requests go through (pooled connections).
    public let httpClient: HTTPClient
    /// How transient failures are retried.
    public var retry: RetryPolicy
    /// The time one try of a call may take; a long-poll claim adds its wait.
    public var requestTimeout: Duration
    /// Where retries are logged (at `info`).
    public var logger: Logger
    /// Sent as `User-Agent`.
    public var userAgent: String

    /// A client of the server at `baseURL` (`http://host:port`).
    public init(
        baseURL: String, apiKey: String? = nil, httpClient: HTTPClient = .shared, retry: RetryPolicy = .init(),
        requestTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "botrix-client")
    ) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.apiKey = (apiKey?.isEmpty ?? true) ? nil : apiKey
        self.httpClient = httpClient
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.logger = logger
        self.userAgent = "botrix-client-swift/\(BotrixClient.version)"
    }

    /// This library's version, sent in `User-Agent`.
    public static let version = "0.1.0"
}
