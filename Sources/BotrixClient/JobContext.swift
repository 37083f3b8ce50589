import Synchronization

/// What a ``Worker`` handler gets for one claimed job: the job, the calls to report on it
/// (which name the attempt for the handler), and the signals to stop working on it.
///
/// - `job`, `remaining`, `recorded`: where the job stands.
/// - ``record(_:)`` hands back one account (retry-safe), ``progress(_:successful:failed:message:)``
///   reports counters.
/// - `isCancelled` turns true when the job must be dropped — the heartbeat said `cancel`,
///   or a call got 409 (cancelled, or the attempt lost the job). The handler's task is
///   then cancelled too, and every method throws ``JobCancelled``.
/// - `isStopping` turns true when the worker was asked to stop: finish the account in
///   hand and return; ``sleep(for:)`` returns false early and ``check()`` throws
///   ``WorkerStopping``. The worker then releases the job.
public final class JobContext: Sendable {
    /// The claim: job, worker, token, attempt, lease.
    public let claim: Claim
    /// Accounts the job asks for.
    public let count: Int
    private let recordedBefore: Int
    private let worker: Worker
    private let state: Mutex<State>

    private struct State {
        var job: Job
        var recorded: [Account] = []
        /// Idempotency keys by account body: a repeated record of the same account reuses its key.
        var keys: [[UInt8]: String] = [:]
        var gone = false
        var lost = false
        var stopReason: String?
        var onGone: (@Sendable () -> Void)?
    }

    init(worker: Worker, claim: Claim) {
        self.worker = worker
        self.claim = claim
        self.count = claim.job.count
        self.recordedBefore = claim.job.accountsRecorded
        self.state = Mutex(State(job: claim.job))
    }

    /// The claimed job's id.
    public var jobID: String { claim.jobID }
    /// The worker's name.
    public var workerID: String { claim.workerID }
    /// The attempt number (1 for the first claim of the job).
    public var attempt: Int { claim.attempt }
    /// The job as last seen (claim, heartbeats, progress answers).
    public var job: Job { state.withLock { $0.job } }
    /// The accounts this attempt recorded, as the server stored them (no passwords).
    public var recorded: [Account] { state.withLock { $0.recorded } }
    /// Accounts still to record: `count` minus those of earlier attempts and of this one.
    public var remaining: Int { max(0, count - recordedBefore - state.withLock { $0.recorded.count }) }
    /// True once the job must be dropped (cancelled, or lost by this attempt).
    public var isCancelled: Bool { state.withLock { $0.gone } }
    /// True when the attempt lost the job (stale token, lease ran out) rather than it being cancelled.
    public var isLost: Bool { state.withLock { $0.lost } }
    /// Why the job was dropped, once it was.
    public var stopReason: String? { state.withLock { $0.stopReason } }
    /// True once the worker was asked to stop (``Worker/stop()``).
    public var isStopping: Bool { worker.isStopRequested }
    /// True when the handler should wind down: cancelled or stopping.
    public var shouldStop: Bool { isCancelled || isStopping }

    /// Throws ``JobCancelled`` once the job was cancelled or lost.
    public func checkCancelled() throws {
        if let interruption { throw interruption }
    }

    /// Throws ``JobCancelled`` once the job was cancelled or lost, or ``WorkerStopping``
    /// once the worker is stopping. Call it between accounts.
    public func check() throws {
        try checkCancelled()
        if isStopping { throw WorkerStopping(workerID: workerID) }
    }

    /// Sleeps up to `duration` (the handler's "work"). Returns true when the time passed,
    /// false early when the worker is stopping; throws ``JobCancelled`` when the job was
    /// cancelled or lost meanwhile.
    @discardableResult
    public func sleep(for duration: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while true {
            try checkCancelled()
            if isStopping { return false }
            let left = end - clock.now
            if left <= .zero { return true }
            do {
                try await Task.sleep(for: min(left, .milliseconds(50)))
            } catch {
                try checkCancelled()
                throw error
            }
        }
    }

    /// Records one produced account for the job and returns it as stored.
    ///
    /// Retry-safe: the same account sent again by this attempt carries the same
    /// `Idempotency-Key`, so retries — the client's own through a server restart (for up
    /// to the worker's `retryFor`, even after a stop was requested: an account in hand is
    /// never dropped), or the handler's after a ``BotrixError/transport(_:)`` — replay the
    /// first answer instead of recording twice.
    ///
    /// Throws ``JobCancelled`` on 409/404 (stop working on the job), ``BotrixError`` 422
    /// when a field is invalid or the email or username is taken, and
    /// ``BotrixError/invalidRequest(_:)`` when the job already has all its accounts.
    @discardableResult
    public func record(_ account: NewAccount) async throws -> Account {
        try checkCancelled()
        guard remaining > 0 else {
            throw BotrixError.invalidRequest("job \(jobID) already has all \(count) accounts")
        }
        let key = try idempotencyKey(for: account)
        let stored: Account
        do {
            stored = try await worker.client.recordAccount(
                claim, account, options: CallOptions(idempotencyKey: key, retryFor: worker.retryFor))
        } catch {
            throw interpret(error)
        }
        state.withLock { $0.recorded.append(stored) }
        worker.logger.info(
            "recorded account \(stored.email) (id \(stored.id)) for job \(jobID) [\(count - remaining)/\(count)]")
        return stored
    }

    /// Reports counters and a message (this also renews the lease); returns the job.
    @discardableResult
    public func progress(
        _ progress: Int? = nil, successful: Int? = nil, failed: Int? = nil, message: String? = nil
    ) async throws -> Job {
        try checkCancelled()
        let job: Job
        do {
            job = try await worker.client.reportProgress(
                claim, progress: progress, successful: successful, failed: failed, message: message,
                options: CallOptions(retryFor: worker.retryFor))
        } catch {
            throw interpret(error)
        }
        update(job)
        return job
    }

    // MARK: - For the worker

    /// Takes a newer view of the job (from a heartbeat or an answer).
    func update(_ job: Job) {
        guard job.id == jobID else { return }
        state.withLock { $0.job = job }
    }

    /// Marks the job as dropped (once): every later call throws, the handler is cancelled.
    func markGone(_ reason: String, lost: Bool) {
        let (newly, callback) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            guard !state.gone else { return (false, nil) }
            state.gone = true
            state.lost = lost
            state.stopReason = reason
            return (true, state.onGone)
        }
        guard newly else { return }
        worker.logger.warning("job \(jobID): \(reason); dropping it (no further calls)")
        callback?()
    }

    /// Runs `callback` when the job is dropped (at once if it already was).
    func onGone(_ callback: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            if state.gone { return true }
            state.onGone = callback
            return false
        }
        if already { callback() }
    }

    /// The error to throw once the job was dropped.
    private var interruption: JobCancelled? {
        state.withLock { state -> JobCancelled? in
            state.gone ? JobCancelled(jobID: jobID, reason: state.stopReason ?? "cancelled", isLost: state.lost) : nil
        }
    }

    /// A call's failure as the handler should see it: 409/404 drop the job (as
    /// ``JobCancelled``), and a call cut short because the job was dropped says so.
    private func interpret(_ error: any Error) -> any Error {
        if let failure = error as? BotrixError, failure.isConflict || failure.isNotFound {
            markGone("\(failure.status ?? 0): \(failure.detail)", lost: !failure.saysCancelled)
        }
        if let interruption { return interruption }
        return error
    }

    /// The key for `account`: the same for the same body within this attempt.
    private func idempotencyKey(for account: NewAccount) throws -> String {
        let canonical = try JSONBody.encode(account)
        return state.withLock { state in
            if let key = state.keys[canonical] { return key }
            let key = IdempotencyKey.make(prefix: "acct")
            state.keys[canonical] = key
            return key
        }
    }
}
