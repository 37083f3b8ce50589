import Dispatch
import Synchronization

/// Runs the reads that walk LMDB (list pages, log pages) on threads of their own, at most
/// `limit` at once, so Swift's cooperative pool — which answers health probes and every
/// other request — is never occupied by them. A read waits its turn here, not there.
final class ReadPool: Sendable {
    private let limit: Int
    /// Reads that may wait for a thread; beyond it a read gets 503 at once.
    private let queueLimit: Int
    private let state = Mutex<(running: Int, waiting: [CheckedContinuation<Bool, Never>])>((0, []))

    init(limit: Int, queueLimit: Int = 256) {
        self.limit = max(1, limit)
        self.queueLimit = queueLimit
    }

    /// Runs `body` on the caller's thread when `bounded` (a first page or a cursor page
    /// read by index: one seek and at most a page-limit of point reads, like `GET` of one
    /// row), else on a pool thread as ``run(_:)``. For such a read the hop to a pool
    /// thread and back costs more than the read: it was 12% of an account page's CPU.
    func run<T: Sendable>(bounded: Bool, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        if bounded { return try body() }
        return try await run(body)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard await enter() else {
            throw Problem(
                status: .serviceUnavailable, slug: "overloaded", title: "Too many reads waiting",
                detail: "more than \(queueLimit) reads are waiting for a thread: retry shortly",
                headers: [.retryAfter: "1"])
        }
        defer { leave() }
        // A read whose client went away while it waited is not worth doing.
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// True once the read holds a slot; false when the queue is full.
    private func enter() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer = state.withLock { state -> Bool? in
                guard state.running < limit else {
                    guard state.waiting.count < queueLimit else { return false }
                    state.waiting.append(continuation)
                    return nil
                }
                state.running += 1
                return true
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// Hands the slot to the first waiter, or frees it.
    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: true)
    }
}
