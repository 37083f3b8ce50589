import Dispatch
import Storage

/// The writer's health as `/health/ready` and metrics report it.
public struct WriterStatus: Sendable {
    /// False once the writer was shut down.
    public var running: Bool
    /// Operations waiting for a batch now, and the most that may wait.
    public var queued: Int
    public var maximumQueued: Int
    /// How long the oldest operation not yet answered has waited (0: none waiting).
    public var oldestWaitingSeconds: Double
    /// Batches in a row that failed on storage (0 once one succeeds).
    public var consecutiveFailures: Int
    /// What the last failed batch failed with, while failures continue.
    public var lastFailure: (any Error)?
    public var secondsSinceLastFailure: Double?
    /// Set when LMDB gave up on the file: writes are refused until a restart.
    public var fatal: EventLogError?

    /// True when writes are expected to succeed: running, not fatally failed, not stalled
    /// (the queue full, or a write waiting longer than `stalledAfter` seconds: a commit is
    /// stuck behind another process's write lock or a dead disk), and no batch failed in
    /// the last `retryAfter` seconds. After that quiet time the write path
    /// counts as writable again, so that traffic returns and proves it (a full disk that
    /// was freed heals without a restart; one that was not fails the next batch again).
    public func writable(retryAfter: Double = 10, stalledAfter: Double = 5) -> Bool {
        guard running, fatal == nil, !stalled(after: stalledAfter) else { return false }
        return consecutiveFailures == 0 || (secondsSinceLastFailure ?? .infinity) >= retryAfter
    }

    /// True when the queue is full or its oldest write has waited `after` seconds or more.
    public func stalled(after seconds: Double = 5) -> Bool {
        queued >= maximumQueued || oldestWaitingSeconds >= seconds
    }

    /// The last failure in words safe for an unauthenticated health check, and whether it
    /// was a lack of space.
    public var failureSummary: (text: String, outOfSpace: Bool)? {
        guard let lastFailure else { return nil }
        if let failure = (lastFailure as? any StorageFailure)?.storageFailure {
            return (failure.summary, failure.outOfSpace)
        }
        return ("\(type(of: lastFailure))", false)
    }
}

/// Failure bookkeeping of the writer thread.
struct WriterHealth {
    var consecutiveFailures = 0
    var lastFailure: (any Error)?
    var lastFailureAt: UInt64 = 0

    mutating func failed(_ error: any Error, at uptime: UInt64) {
        consecutiveFailures += 1
        lastFailure = error
        lastFailureAt = uptime
    }

    mutating func succeeded() {
        consecutiveFailures = 0
        lastFailure = nil
    }
}
