import Synchronization

/// A bool any thread or task may set once and read at any time: the worker's "stop
/// requested" and "claim no more" signals, safe to set from a signal handler's queue.
final class Flag: Sendable {
    private let value = Mutex(false)

    /// Whether the flag was set.
    var isSet: Bool { value.withLock { $0 } }

    /// Sets the flag; true when this call set it (false when it was already set).
    @discardableResult
    func set() -> Bool {
        value.withLock { current in
            defer { current = true }
            return !current
        }
    }
}
