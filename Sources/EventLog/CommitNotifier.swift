import Synchronization

/// Tells waiting readers that the log head moved. It carries no events (readers fetch
/// them from LMDB), so a slow subscriber costs one waiter entry, never a buffer.
public final class CommitNotifier: Sendable {
    private struct State {
        var head: UInt64 = 0
        var nextID = 0
        var waiters: [Int: (after: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The last head published in this process.
    public var head: UInt64 { state.withLock { $0.head } }

    /// Records a new head and wakes everyone waiting for less.
    public func publish(head: UInt64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.head = max(state.head, head)
            let due = state.waiters.filter { $0.value.after < state.head }
            for id in due.keys { state.waiters[id] = nil }
            return due.map(\.value.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once a head beyond `sequence` is published, or when the task is cancelled.
    public func wait(beyond sequence: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.head > sequence || Task.isCancelled { return true }
                    state.waiters[id] = (sequence, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id)?.continuation }
            continuation?.resume()
        }
    }
}
