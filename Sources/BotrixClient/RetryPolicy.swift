/// How a call retries transient failures, as the Python client does: exponential backoff
/// from `baseDelay` doubling up to `maxDelay`, each delay drawn at random from its upper
/// half ("equal jitter"), never shorter than the server's `Retry-After`, at most
/// `maxRetries` retries after the first try. It exists so every caller gets the same
/// behaviour through a restart or an overload without writing loops of its own.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first try (0: no retry).
    public var maxRetries: Int
    /// The first delay's ceiling; it doubles with every retry.
    public var baseDelay: Duration
    /// The largest delay's ceiling (a `Retry-After` may ask for more).
    public var maxDelay: Duration

    /// The Python client's defaults: 5 retries, 0.25 s doubling to 10 s.
    public init(maxRetries: Int = 5, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(10)) {
        self.maxRetries = max(0, maxRetries)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// No retries at all: one try, its failure thrown.
    public static var never: RetryPolicy { RetryPolicy(maxRetries: 0) }

    /// The wait before retry number `attempt` (1 for the first retry).
    public func delay(afterAttempt attempt: Int) -> Duration {
        let doubling = Double(1 << min(max(attempt - 1, 0), 30))
        let ceiling = min(maxDelay.inSeconds, baseDelay.inSeconds * doubling)
        guard ceiling > 0 else { return .zero }
        return .seconds(Double.random(in: (ceiling / 2)...ceiling))
    }

    /// The statuses the client retries: 408, 429, 502, 503, 504 and 507.
    public static func isTransient(status: Int) -> Bool {
        [408, 429, 502, 503, 504, 507].contains(status)
    }
}

extension Duration {
    /// The duration in seconds, for arithmetic with jitter and fractions.
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
