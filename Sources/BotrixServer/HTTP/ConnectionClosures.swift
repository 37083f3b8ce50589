public import NIOCore
import Synchronization

/// What to do when a client's connection closes, registered by a request and removed when
/// the request ends. A long-poll claim must stop waiting when its client leaves; a
/// callback on the channel's `closeFuture` per claim would pile up on a keep-alive
/// connection that long-polls all day (each one kept until the connection closes). Here
/// a connection gets one `closeFuture` callback, the first time a request registers, and
/// each request's callback lives only as long as the request.
public final class ConnectionClosures: Sendable {
    private struct State {
        var next: UInt64 = 0
        /// Per open connection that ever registered: the callbacks of its requests in flight.
        var channels: [ObjectIdentifier: [UInt64: @Sendable () -> Void]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Calls `callback` once if `channel` closes before ``remove(_:from:)``; at once when
    /// it already has. Returns the registration to remove.
    public func register(on channel: any Channel, _ callback: @escaping @Sendable () -> Void) -> UInt64 {
        let id = ObjectIdentifier(channel)
        let (token, first) = state.withLock { state -> (UInt64, Bool) in
            state.next += 1
            let first = state.channels[id] == nil
            state.channels[id, default: [:]][state.next] = callback
            return (state.next, first)
        }
        if first {
            // The entry goes with the connection, before the channel can be freed and its
            // address (the key) reused.
            channel.closeFuture.whenComplete { [self] _ in
                let callbacks = state.withLock { $0.channels.removeValue(forKey: id) } ?? [:]
                for callback in callbacks.values { callback() }
            }
        }
        return token
    }

    /// Forgets a registration (its request ended); a no-op after the connection closed.
    public func remove(_ token: UInt64, from channel: any Channel) {
        _ = state.withLock { $0.channels[ObjectIdentifier(channel)]?.removeValue(forKey: token) }
    }

    /// Callbacks registered and not yet removed or called (tests and metrics).
    public var pending: Int { state.withLock { $0.channels.values.reduce(0) { $0 + $1.count } } }

    /// Connections with an entry (one per open connection that registered).
    public var connections: Int { state.withLock { $0.channels.count } }
}
