import Dispatch
import EventLog
import Foundation
import Synchronization

/// Runs the reads that walk LMDB (list pages, log pages) on threads of their own, at most
/// `limit` at once, so Swift's cooperative pool — which answers health probes and every
/// other request — is never occupied by them. A read waits its turn here, not there.
///
/// The threads are the pool's own, `limit` of them for its whole life. Handing reads to
/// Dispatch's global queue instead let Dispatch start threads as load came and went, and
/// each new thread took a malloc arena of its own that kept its peak: the server's memory
/// grew for minutes under steady load (see README, Performance).
final class ReadPool: Sendable {
    private let limit: Int
    /// Reads that may wait for a thread; beyond it a read gets 503 at once.
    private let queueLimit: Int
    private let state = Mutex<(running: Int, waiting: [CheckedContinuation<Bool, Never>])>((0, []))
    private let threads: ReadThreads
    private let submitted = Atomic<Int>(0)

    /// Reads handed to the pool's threads so far (tests tell pooled reads from others by it).
    var readsSubmitted: Int { submitted.load(ordering: .relaxed) }

    /// `name` prefixes its threads' names (`botrix-read-0`, …; at most 15 bytes are kept).
    /// Starts the pool's threads; throws ``SystemThread/Refused`` when the system will not
    /// start them all (reads would otherwise wait for threads that never run).
    init(limit: Int, queueLimit: Int = 256, name: String = "botrix-read") throws {
        self.limit = max(1, limit)
        self.queueLimit = queueLimit
        threads = try ReadThreads(count: self.limit, name: name)
    }

    deinit { threads.stop() }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard await enter() else {
            throw Problem(
                status: .serviceUnavailable, slug: "overloaded", title: "Too many reads waiting",
                detail: "more than \(queueLimit) reads are waiting for a thread: retry shortly",
                headers: [.retryAfter: "1"])
        }
        defer { leave() }
        // A read whose task was cancelled while it waited is not worth doing. (Hummingbird 2
        // does not cancel a handler when its client disconnects, so that read still runs.)
        try Task.checkCancellation()
        submitted.add(1, ordering: .relaxed)
        return try await withCheckedThrowingContinuation { continuation in
            threads.submit { continuation.resume(with: Result { try body() }) }
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

/// The read pool's threads: each takes the next submitted read, runs it, and waits for the
/// next. A read is submitted only while it holds one of the pool's `limit` slots, so one of
/// the `limit` threads is always free for it. ``stop()`` lets them finish and end.
private final class ReadThreads: Sendable {
    private let work = Mutex<(reads: [@Sendable () -> Void], stopping: Bool)>(([], false))
    private let available = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int, name: String) throws {
        self.count = count
        for index in 0..<count {
            do {
                try SystemThread.start(named: "\(name)-\(index)") { [self] in loop() }
            } catch {
                stop()  // the threads already started end
                throw error
            }
        }
    }

    func submit(_ read: @escaping @Sendable () -> Void) {
        work.withLock { $0.reads.append(read) }
        available.signal()
    }

    /// Ends every thread once the reads already submitted have run.
    func stop() {
        work.withLock { $0.stopping = true }
        for _ in 0..<count { available.signal() }
    }

    private func loop() {
        while true {
            available.wait()
            let next = work.withLock { work -> (@Sendable () -> Void)? in
                work.reads.isEmpty ? nil : work.reads.removeFirst()
            }
            if let next {
                next()
            } else if work.withLock({ $0.stopping }) {
                return
            }
        }
    }
}
