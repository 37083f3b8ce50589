import Dispatch
import Foundation
import LMDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The one writer: it owns LMDB's write transaction on a thread of its own and commits
/// whatever callers queued meanwhile as one transaction with one fsync.
///
/// An operation that throws (a version conflict, a rejected command) leaves no trace and
/// does not disturb the rest of its batch: operations check before they write (see
/// ``LogTransaction``), and a batch in which one threw after writing is run again with
/// each operation in a nested transaction. A storage failure (disk full, I/O error) aborts the whole batch and
/// every caller in it gets ``EventLogError/storage(_:)``; nothing is half written. A
/// full map is grown and the batch run again. Callers resume only after the commit.
public final class GroupCommitWriter: Sendable {
    /// Tuning; the defaults suit a small server.
    public struct Options: Sendable {
        /// Most operations committed in one transaction.
        public var maximumBatch: Int
        /// How many times a batch may grow the map and run again.
        public var mapGrowthAttempts: Int
        /// How long to wait for stragglers when a batch is smaller than the one before
        /// (callers of that batch are about to return); zero turns it off. Only under
        /// concurrency does it apply, and it costs a lone caller nothing.
        public var linger: Duration
        public init(maximumBatch: Int = 1024, mapGrowthAttempts: Int = 8, linger: Duration = .microseconds(100)) {
            self.maximumBatch = maximumBatch
            self.mapGrowthAttempts = mapGrowthAttempts
            self.linger = linger
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

    /// The writer's clock now, in milliseconds: what the next batch will see as `now`.
    public func currentTime() -> Int64 { clock() }

    /// Operations waiting for the next batch (a gauge for metrics; tests use it to know
    /// that work has queued up behind a running batch).
    public var queuedOperations: Int { queue.withLock { $0.pending.count } }

    /// True until ``shutdown()``; `/health` reports it.
    public var isRunning: Bool { queue.withLock { $0.accepting } }

    private func run() {
        var previousBatch = 0
        while true {
            wakeUp.wait()
            while true {
                var (batch, accepting) = take(upTo: options.maximumBatch)
                if batch.isEmpty {
                    if accepting { break }
                    stopped.signal()
                    return
                }
                // Callers of the last, larger batch are still coming back with their next
                // operation: waiting a moment for them saves a whole commit (an fsync).
                if options.linger > .zero, batch.count < previousBatch, batch.count < options.maximumBatch {
                    awaitStragglers(until: min(previousBatch, options.maximumBatch) - batch.count)
                    batch += take(upTo: options.maximumBatch - batch.count).batch
                    accepting = true
                }
                previousBatch = batch.count
                commit(batch)
            }
        }
    }

    /// Yields the CPU (callers need it to come back) until `count` more operations are
    /// queued or the linger time is up.
    private func awaitStragglers(until count: Int) {
        let deadline =
            DispatchTime.now().uptimeNanoseconds + UInt64(options.linger.components.attoseconds / 1_000_000_000)
        while queue.withLock({ $0.pending.count }) < count, DispatchTime.now().uptimeNanoseconds < deadline {
            sched_yield()
        }
    }

    private func take(upTo limit: Int) -> (batch: [PendingOperation], accepting: Bool) {
        queue.withLock { queue in
            let count = min(queue.pending.count, limit)
            let batch = Array(queue.pending.prefix(count))
            queue.pending.removeFirst(count)
            return (batch, queue.accepting)
        }
    }

    private func commit(_ batch: [PendingOperation]) {
        let started = DispatchTime.now().uptimeNanoseconds
        let now = clock()
        var outcomes: [(any Error)?] = []
        var events = 0
        var newHead: UInt64 = 0
        var isolated = false
        while true {
            do {
                try log.environment.write(growingMap: options.mapGrowthAttempts) { txn in
                    outcomes = []
                    events = 0
                    for operation in batch {
                        let outcome =
                            try isolated
                            ? runIsolated(operation, in: txn, now: now, events: &events)
                            : runShared(operation, in: txn, now: now, events: &events)
                        outcomes.append(outcome)
                    }
                    newHead = try log.head(in: txn).sequence
                }
                break
            } catch is WroteThenThrew {
                isolated = true  // run the batch again, each operation in its own nested transaction
            } catch {
                let failure = (error as? LMDBError).map(EventLogError.storage) ?? error
                for operation in batch { operation.finish(failure) }
                onBatch(BatchReport(operations: batch.count, rejected: 0, events: 0, commitSeconds: 0, failed: true))
                return
            }
        }
        log.notifier.publish(head: newHead)
        for (operation, outcome) in zip(batch, outcomes) { operation.finish(outcome) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        onBatch(
            BatchReport(
                operations: batch.count, rejected: outcomes.compactMap { $0 }.count, events: events,
                commitSeconds: seconds, failed: false))
    }

    /// The fast path: straight in the batch's transaction. An operation that rejects
    /// before writing (the rule of ``LogTransaction``) leaves nothing to undo.
    private func runShared(
        _ operation: PendingOperation, in txn: WriteTransaction, now: Int64, events: inout Int
    ) throws -> (any Error)? {
        var logTransaction = LogTransaction(log: log, transaction: txn, now: now)
        do {
            try operation.run(&logTransaction)
            events += logTransaction.appended.count
            return nil
        } catch let error as LMDBError {
            throw error
        } catch {
            if logTransaction.hasWritten { throw WroteThenThrew() }
            return error
        }
    }

    /// The careful path: a nested transaction per operation, so one that throws after
    /// writing is undone alone.
    private func runIsolated(
        _ operation: PendingOperation, in txn: WriteTransaction, now: Int64, events: inout Int
    ) throws -> (any Error)? {
        do {
            try txn.nested { child in
                var logTransaction = LogTransaction(log: log, transaction: child, now: now)
                try operation.run(&logTransaction)
                events += logTransaction.appended.count
            }
            return nil
        } catch let error as LMDBError {
            throw error
        } catch {
            return error
        }
    }
}

/// An operation threw after writing; its batch must run again with isolation.
private struct WroteThenThrew: Error {}

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
