import Dispatch
import Foundation
import LMDB
import Synchronization

/// The one writer: it owns LMDB's write transaction on a thread of its own and commits
/// whatever callers queued meanwhile as one transaction with one fsync.
///
/// Each queued operation runs in a nested transaction, so an operation that throws (a
/// version conflict, a rejected command) leaves no trace and does not disturb the rest
/// of its batch. A storage failure (disk full, I/O error) aborts the whole batch and
/// every caller in it gets ``EventLogError/storage(_:)``; nothing is half written. A
/// full map is grown and the batch run again. Callers resume only after the commit.
public final class GroupCommitWriter: Sendable {
    /// Tuning; the defaults suit a small server.
    public struct Options: Sendable {
        /// Most operations committed in one transaction.
        public var maximumBatch: Int
        /// How many times a batch may grow the map and run again.
        public var mapGrowthAttempts: Int
        public init(maximumBatch: Int = 1024, mapGrowthAttempts: Int = 8) {
            self.maximumBatch = maximumBatch
            self.mapGrowthAttempts = mapGrowthAttempts
        }
    }

    /// What one commit did, for metrics and benchmarks.
    public struct BatchReport: Sendable {
        public var operations: Int
        public var rejected: Int
        public var events: Int
        public var commitSeconds: Double
        public var failed: Bool
    }

    public let log: EventLog
    private let options: Options
    private let clock: @Sendable () -> Int64
    private let onBatch: @Sendable (BatchReport) -> Void
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    private struct Queue {
        var pending: [PendingOperation] = []
        var accepting = true
    }

    /// Milliseconds since 1970 from the system clock.
    public static let wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Starts the writer thread.
    /// - Parameters:
    ///   - clock: milliseconds since 1970 for `recorded_at`; tests inject their own.
    ///   - onBatch: called on the writer thread after each batch; keep it cheap.
    public init(
        log: EventLog, options: Options = Options(),
        clock: @escaping @Sendable () -> Int64 = GroupCommitWriter.wallClock,
        onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }
    ) {
        self.log = log
        self.options = options
        self.clock = clock
        self.onBatch = onBatch
        let thread = Thread { [self] in run() }
        thread.name = "botrix-writer"
        thread.start()
    }

    /// Runs `operation` inside the next batch's transaction and returns its result once
    /// that batch is durable. What it throws is rethrown, and its writes are discarded.
    public func perform<T: Sendable>(
        _ operation: @escaping @Sendable (inout LogTransaction) throws -> T
    ) async throws -> T {
        let outcome: Result<T, any Error> = await withCheckedContinuation { continuation in
            let box = ResultBox<T>()
            let pending = PendingOperation(
                run: { transaction in box.value = try operation(&transaction) },
                finish: { error in
                    if let error {
                        continuation.resume(returning: .failure(error))
                    } else if let value = box.value {
                        continuation.resume(returning: .success(value))
                    }
                })
            let accepted = queue.withLock { queue -> Bool in
                guard queue.accepting else { return false }
                queue.pending.append(pending)
                return true
            }
            if accepted { wakeUp.signal() } else { pending.finish(EventLogError.writerStopped) }
        }
        return try outcome.get()
    }

    /// Appends one request; see ``LogTransaction/append(_:)``.
    public func append(_ request: AppendRequest) async throws -> AppendResult {
        try await perform { try $0.append(request) }
    }

    /// Stops accepting work, commits what is queued, and ends the thread.
    public func shutdown() async {
        let first = queue.withLock { queue -> Bool in
            defer { queue.accepting = false }
            return queue.accepting
        }
        guard first else { return }
        wakeUp.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.stopped.wait()
                self.stopped.signal()
                continuation.resume()
            }
        }
    }

    /// True until ``shutdown()``; `/health` reports it.
    public var isRunning: Bool { queue.withLock { $0.accepting } }

    private func run() {
        while true {
            wakeUp.wait()
            while true {
                let (batch, accepting) = queue.withLock { queue in
                    let take = min(queue.pending.count, options.maximumBatch)
                    let batch = Array(queue.pending.prefix(take))
                    queue.pending.removeFirst(take)
                    return (batch, queue.accepting)
                }
                if batch.isEmpty {
                    if accepting { break }
                    stopped.signal()
                    return
                }
                commit(batch)
            }
        }
    }

    private func commit(_ batch: [PendingOperation]) {
        let started = DispatchTime.now().uptimeNanoseconds
        let now = clock()
        var outcomes: [(any Error)?] = []
        var appended: [RecordedEvent] = []
        var newHead: UInt64 = 0
        do {
            try log.environment.write(growingMap: options.mapGrowthAttempts) { txn in
                outcomes = []
                appended = []
                for operation in batch {
                    do {
                        try txn.nested { child in
                            var logTransaction = LogTransaction(log: log, transaction: child, now: now)
                            try operation.run(&logTransaction)
                            appended.append(contentsOf: logTransaction.appended)
                        }
                        outcomes.append(nil)
                    } catch let error as LMDBError {
                        throw error
                    } catch {
                        outcomes.append(error)
                    }
                }
                newHead = try log.head(in: txn).sequence
            }
        } catch {
            let failure = (error as? LMDBError).map(EventLogError.storage) ?? error
            for operation in batch { operation.finish(failure) }
            onBatch(BatchReport(operations: batch.count, rejected: 0, events: 0, commitSeconds: 0, failed: true))
            return
        }
        log.notifier.publish(head: newHead)
        for (operation, outcome) in zip(batch, outcomes) { operation.finish(outcome) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        onBatch(
            BatchReport(
                operations: batch.count, rejected: outcomes.compactMap { $0 }.count, events: appended.count,
                commitSeconds: seconds, failed: false))
    }
}

/// A queued operation, type-erased so one batch can hold callers of any result type.
private final class PendingOperation: @unchecked Sendable {
    let run: (inout LogTransaction) throws -> Void
    let finish: ((any Error)?) -> Void

    init(run: @escaping (inout LogTransaction) throws -> Void, finish: @escaping ((any Error)?) -> Void) {
        self.run = run
        self.finish = finish
    }
}

/// Holds an operation's result between the writer thread running it and resuming its caller.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
