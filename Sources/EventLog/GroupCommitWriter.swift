import Dispatch
import Foundation
import Storage
import Synchronization

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
        /// Most operations waiting for a batch. Beyond it ``perform(_:)`` fails at once with
        /// ``EventLogError/overloaded(queued:limit:)`` instead of queueing: when commits stall
        /// (a stopped process holding LMDB's write lock, a slow disk) memory stays bounded
        /// and callers learn to come back later.
        public var maximumQueued: Int
        public init(
            maximumBatch: Int = 1024, mapGrowthAttempts: Int = 8, linger: Duration = .microseconds(100),
            maximumQueued: Int = 10_000
        ) {
            self.maximumBatch = maximumBatch
            self.mapGrowthAttempts = mapGrowthAttempts
            self.linger = linger
            self.maximumQueued = max(1, maximumQueued)
        }
    }

    /// What one commit did, for metrics and benchmarks.
    public struct BatchReport: Sendable {
        public var operations: Int
        public var rejected: Int
        public var events: Int
        public var commitSeconds: Double
        public var failed: Bool
        /// Reader slots of dead processes cleared after this commit (the file had grown).
        public var staleReadersCleared: Int = 0
    }

    public let log: EventLog
    private let options: Options
    private let clock: @Sendable () -> Int64
    private let onBatch: @Sendable (BatchReport) -> Void
    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)

    private let health = Mutex(WriterHealth())

    private struct Queue {
        var pending: [PendingOperation] = []
        var accepting = true
        /// The writer is parked on `wakeUp` until `pending` holds `wakeAt` operations (or
        /// shutdown): only the caller that reaches that count pays for a wake-up, the
        /// others just queue.
        var parked = false
        var wakeAt = 1
        /// When the oldest operation of the batch being committed was queued (0: none).
        var inFlightSince: UInt64 = 0
        /// The writer thread has committed its last batch and is ending.
        var stopped = false
        /// Callers of ``shutdown()`` waiting for that.
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Milliseconds since 1970 from the system clock.
    public static let wallClock: @Sendable () -> Int64 = { Timestamp.nowMilliseconds() }

    /// Starts the writer thread; throws ``SystemThread/Refused`` when the system will not
    /// start one (every command would otherwise wait for a writer that never runs).
    /// - Parameters:
    ///   - clock: milliseconds since 1970 for `recorded_at`; tests inject their own.
    ///   - onBatch: called on the writer thread after each batch; keep it cheap.
    public init(
        log: EventLog, options: Options = Options(),
        clock: @escaping @Sendable () -> Int64 = GroupCommitWriter.wallClock,
        onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }
    ) throws {
        self.log = log
        self.options = options
        self.clock = clock
        self.onBatch = onBatch
        try SystemThread.start(named: "botrix-writer") { [self] in run() }
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
            let (refusal, wake) = queue.withLock { queue -> (EventLogError?, Bool) in
                guard queue.accepting else { return (.writerStopped, false) }
                guard queue.pending.count < options.maximumQueued else {
                    return (.overloaded(queued: queue.pending.count, limit: options.maximumQueued), false)
                }
                if let fatal = log.environment.fatalError { return (.storage(fatal), false) }
                queue.pending.append(pending)
                guard queue.parked, queue.pending.count >= queue.wakeAt else { return (nil, false) }
                queue.parked = false
                return (nil, true)
            }
            if let refusal { pending.finish(refusal) } else if wake { wakeUp.signal() }
        }
        return try outcome.get()
    }

    /// Appends one request; see ``LogTransaction/append(_:)``.
    public func append(_ request: AppendRequest) async throws -> AppendResult {
        try await perform { try $0.append(request) }
    }

    /// Stops accepting work, commits what is queued, and ends the thread.
    /// Every caller returns once the writer has stopped, a second one too: it used to return
    /// at once, while the first caller's batch could still be committing. The wait holds no
    /// thread: the writer resumes the callers as it ends.
    public func shutdown() async {
        queue.withLock { $0.accepting = false }
        wakeUp.signal()  // the writer may be parked: it commits what is queued, then stops
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = queue.withLock { queue -> Bool in
                if !queue.stopped { queue.stopWaiters.append(continuation) }
                return queue.stopped
            }
            if stopped { continuation.resume() }
        }
    }

    /// The writer's clock now, in milliseconds: what the next batch will see as `now`.
    public func currentTime() -> Int64 { clock() }

    /// Operations waiting for the next batch (a gauge for metrics; tests use it to know
    /// that work has queued up behind a running batch).
    public var queuedOperations: Int { queue.withLock { $0.pending.count } }

    /// True until ``shutdown()``; `/health` reports it.
    public var isRunning: Bool { queue.withLock { $0.accepting } }

    /// Whether writes are succeeding, for `/health/ready`: the last failure and how many
    /// batches in a row failed, and how long the oldest operation has waited.
    public var status: WriterStatus {
        let (queued, oldest) = queue.withLock { queue -> (Int, UInt64) in
            let first = queue.pending.first?.queuedAt ?? 0
            let candidates = [first, queue.inFlightSince].filter { $0 > 0 }
            return (queue.pending.count, candidates.min() ?? 0)
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let health = self.health.withLock { $0 }
        return WriterStatus(
            running: isRunning, queued: queued, maximumQueued: options.maximumQueued,
            oldestWaitingSeconds: oldest == 0 ? 0 : Double(now - min(now, oldest)) / 1e9,
            consecutiveFailures: health.consecutiveFailures, lastFailure: health.lastFailure,
            secondsSinceLastFailure: health.lastFailureAt == 0 ? nil : Double(now - health.lastFailureAt) / 1e9,
            fatal: log.environment.fatalError.map(EventLogError.storage))
    }

    private func run() {
        var previousBatch = 0
        while true {
            let taken = take(upTo: options.maximumBatch)
            var batch = taken.batch
            if batch.isEmpty {
                if !taken.accepting {
                    let waiters = queue.withLock { queue in
                        queue.stopped = true
                        defer { queue.stopWaiters = [] }
                        return queue.stopWaiters
                    }
                    for waiter in waiters { waiter.resume() }
                    return
                }
                park(until: 1, deadline: .distantFuture)
                continue
            }
            // Callers of the last, larger batch are still coming back with their next
            // operation: waiting a moment for them saves a whole commit (an fsync).
            if options.linger > .zero, batch.count < previousBatch, batch.count < options.maximumBatch {
                let missing = min(previousBatch, options.maximumBatch) - batch.count
                park(until: missing, deadline: .now() + .nanoseconds(Int(options.linger / .nanoseconds(1))))
                batch += take(upTo: options.maximumBatch - batch.count).batch
            }
            previousBatch = batch.count
            commit(batch)
        }
    }

    /// Sleeps (leaving both cores to the callers, who need them to come back) until `count`
    /// operations are queued, the writer is shut down, or `deadline` passes. The caller that
    /// brings the queue to `count` wakes it; a stale wake-up only costs one more look.
    private func park(until count: Int, deadline: DispatchTime) {
        let ready = queue.withLock { queue -> Bool in
            guard queue.pending.count < count, queue.accepting else { return true }
            queue.parked = true
            queue.wakeAt = count
            return false
        }
        guard !ready else { return }
        _ = wakeUp.wait(timeout: deadline)
        queue.withLock { $0.parked = false }
    }

    private func take(upTo limit: Int) -> (batch: [PendingOperation], accepting: Bool) {
        queue.withLock { queue in
            let count = min(queue.pending.count, limit)
            let batch = Array(queue.pending.prefix(count))
            queue.pending.removeFirst(count)
            if let first = batch.first, queue.inFlightSince == 0 { queue.inFlightSince = first.queuedAt }
            return (batch, queue.accepting)
        }
    }

    private func commit(_ batch: [PendingOperation]) {
        defer { queue.withLock { $0.inFlightSince = 0 } }
        let started = DispatchTime.now().uptimeNanoseconds
        let now = clock()
        var outcomes: [(any Error)?] = []
        var events = 0
        var newHead: UInt64 = 0
        var isolated = false
        var hooks = BatchHooks()
        // Operations whose commit hook failed before the commit: the batch runs again
        // without them, and they get the hook's error.
        var excluded: [Int: any Error] = [:]
        while true {
            do {
                try log.environment.write(makingRoom: options.mapGrowthAttempts) { txn in
                    outcomes = []
                    events = 0
                    hooks = BatchHooks()
                    for (index, operation) in batch.enumerated() {
                        if let error = excluded[index] {
                            outcomes.append(error)
                            continue
                        }
                        let (outcome, registered) =
                            try isolated
                            ? runIsolated(operation, in: txn, now: now, events: &events)
                            : runShared(operation, in: txn, now: now, events: &events)
                        outcomes.append(outcome)
                        if outcome == nil { hooks.add(registered, operation: index) }
                    }
                    for group in hooks.groups {
                        var ltx = LogTransaction(log: log, transaction: txn, now: now)
                        do {
                            try group.hook.beforeCommit(&ltx, group.payloads)
                        } catch let error as any StorageError {
                            throw error
                        } catch {
                            throw HookFailed(operations: group.operations, error: error)
                        }
                    }
                    newHead = try log.head(in: txn).sequence
                }
                break
            } catch is WroteThenThrew {
                isolated = true  // run the batch again, each operation in its own nested transaction
            } catch let failed as HookFailed {
                for index in failed.operations { excluded[index] = failed.error }
            } catch {
                let failure = (error as? any StorageError).map(EventLogError.storage) ?? error
                let at = DispatchTime.now().uptimeNanoseconds
                health.withLock { $0.failed(failure, at: at) }
                for operation in batch { operation.finish(failure) }
                onBatch(BatchReport(operations: batch.count, rejected: 0, events: 0, commitSeconds: 0, failed: true))
                return
            }
        }
        if let hookFailure = excluded.values.first {
            // The rest committed, but the write path is failing for some: say so.
            let at = DispatchTime.now().uptimeNanoseconds
            health.withLock { $0.failed(hookFailure, at: at) }
        } else {
            health.withLock { $0.succeeded() }
        }
        // Committed: finish what must happen before anyone hears of it (see CommitHook).
        for group in hooks.groups {
            do {
                try group.hook.afterCommit(group.payloads)
            } catch {
                for index in group.operations where outcomes[index] == nil { outcomes[index] = error }
            }
        }
        log.notifier.publish(head: newHead)
        // Growth is what a dead reader causes: look for one as soon as the file grows.
        let cleared = log.environment.clearStaleReadersAfterGrowth()
        for (operation, outcome) in zip(batch, outcomes) { operation.finish(outcome) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        onBatch(
            BatchReport(
                operations: batch.count, rejected: outcomes.compactMap { $0 }.count, events: events,
                commitSeconds: seconds, failed: false, staleReadersCleared: cleared))
    }

    /// The fast path: straight in the batch's transaction. An operation that rejects
    /// before writing (the rule of ``LogTransaction``) leaves nothing to undo.
    private func runShared(
        _ operation: PendingOperation, in txn: any WriteTransaction, now: Int64, events: inout Int
    ) throws -> (outcome: (any Error)?, hooks: [(CommitHook, any Sendable)]) {
        var logTransaction = LogTransaction(log: log, transaction: txn, now: now)
        do {
            try operation.run(&logTransaction)
            events += logTransaction.appendedCount
            return (nil, logTransaction.hooks)
        } catch let error as any StorageError {
            throw error
        } catch {
            if logTransaction.hasWritten { throw WroteThenThrew() }
            return (error, [])
        }
    }

    /// The careful path: a nested transaction per operation, so one that throws after
    /// writing is undone alone.
    private func runIsolated(
        _ operation: PendingOperation, in txn: any WriteTransaction, now: Int64, events: inout Int
    ) throws -> (outcome: (any Error)?, hooks: [(CommitHook, any Sendable)]) {
        do {
            let hooks = try txn.nested { child in
                var logTransaction = LogTransaction(log: log, transaction: child, now: now)
                try operation.run(&logTransaction)
                events += logTransaction.appendedCount
                return logTransaction.hooks
            }
            return (nil, hooks)
        } catch let error as any StorageError {
            throw error
        } catch {
            return (error, [])
        }
    }
}

/// An operation threw after writing; its batch must run again with isolation.
private struct WroteThenThrew: Error {}

/// A commit hook failed before the commit; the batch runs again without its operations.
private struct HookFailed: Error {
    let operations: Set<Int>
    let error: any Error
}

/// A queued operation, type-erased so one batch can hold callers of any result type.
private final class PendingOperation: @unchecked Sendable {
    let run: (inout LogTransaction) throws -> Void
    let finish: ((any Error)?) -> Void
    /// Uptime in nanoseconds when it was queued (for the oldest-waiting figure).
    let queuedAt = DispatchTime.now().uptimeNanoseconds

    init(run: @escaping (inout LogTransaction) throws -> Void, finish: @escaping ((any Error)?) -> Void) {
        self.run = run
        self.finish = finish
    }
}

/// Holds an operation's result between the writer thread running it and resuming its caller.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
