/// Per-call overrides of the client's retry behaviour and idempotency key: a worker keeps
/// a call on its job retrying for a while (`retryFor`) through a server restart, and stops
/// retrying once it was told to stop (`abort`), without a second client.
public struct CallOptions: Sendable {
    /// The `Idempotency-Key` of a write, reused across its retries. Nil: a fresh one per
    /// call. Empty: send none.
    public var idempotencyKey: String?
    /// Overrides the client's `RetryPolicy.maxRetries` for this call.
    public var maxRetries: Int?
    /// Retry for up to this long instead of a number of times.
    public var retryFor: Duration?
    /// Overrides the client's request timeout for each try of this call.
    public var timeout: Duration?
    /// Asked before every retry and while waiting for one: once it answers true, no
    /// further retry is made and the last failure is thrown.
    public var abort: (@Sendable () -> Bool)?

    /// Options for one call; every field defaults to the client's behaviour.
    public init(
        idempotencyKey: String? = nil, maxRetries: Int? = nil, retryFor: Duration? = nil, timeout: Duration? = nil,
        abort: (@Sendable () -> Bool)? = nil
    ) {
        self.idempotencyKey = idempotencyKey
        self.maxRetries = maxRetries
        self.retryFor = retryFor
        self.timeout = timeout
        self.abort = abort
    }
}
