public import Logging
import Synchronization

/// A ready-made worker loop over ``BotrixClient``, ported from the Python client's
/// `Worker`: it exists so a worker program only writes what one job takes (the handler)
/// and gets claims, lease renewals, cancels, clean stops and server restarts right.
///
/// Life of one job: a long-poll claim → a background task renews the lease every
/// `leaseSeconds × heartbeatFraction` → `handler(context)` → `complete` when it returns,
/// `fail` (with `retry: true`) when it throws, `release` when it returned early because
/// the worker is stopping. A heartbeat instruction `cancel`, or a 409 on any call, drops
/// the job: the handler's task is cancelled, its next context call throws
/// ``JobCancelled``, and no further call is made on the job. Instruction `shutdown`
/// lets the current job finish and ends ``run(maxJobs:handler:)``.
///
/// Through a server restart every call on the job keeps retrying (for `retryFor`); when
/// the server is back the job goes on if its lease is still valid, or is dropped on 409
/// (the server requeues it when the lease runs out).
public final class Worker: Sendable {
    /// Works on one claimed job. Return when done; throw to fail the attempt (it is
    /// retried while attempts remain).
    public typealias Handler = @Sendable (JobContext) async throws -> Void

    /// The client every call goes through.
    public let client: BotrixClient
    /// The worker's name (`worker_id`), 1…128 printable characters.
    public let workerID: String
    /// The lease asked for with each claim.
    public let leaseSeconds: Int
    /// How long one claim waits for work (long poll), 0…30.
    public let waitSeconds: Int
    /// How long calls on a claimed job keep retrying while the server is unreachable.
    public let retryFor: Duration
    /// The share of the lease between two heartbeats (1/3: three beats per lease).
    public let heartbeatFraction: Double
    let logger: Logger
    let onJobFinished: (@Sendable (JobReport) -> Void)?
    private let stopFlag = Flag()
    let noMoreClaims = Flag()
    private let handled = Mutex(0)

    /// A worker named `workerID` on `client`'s server.
    /// - Parameters:
    ///   - retryFor: default `max(60 s, 2 × leaseSeconds)`.
    ///   - onJobFinished: called once per claimed job with what became of it.
    public init(
        client: BotrixClient, workerID: String, leaseSeconds: Int = 60, waitSeconds: Int = 20,
        retryFor: Duration? = nil, heartbeatFraction: Double = 1.0 / 3.0,
        logger: Logger = Logger(label: "botrix-client.worker"), onJobFinished: (@Sendable (JobReport) -> Void)? = nil
    ) {
        precondition((0...30).contains(waitSeconds), "waitSeconds must be 0...30")
        precondition(leaseSeconds >= 1, "leaseSeconds must be at least 1")
        precondition(heartbeatFraction > 0 && heartbeatFraction < 1, "heartbeatFraction must be between 0 and 1")
        self.client = client
        self.workerID = workerID
        self.leaseSeconds = leaseSeconds
        self.waitSeconds = waitSeconds
        self.retryFor = retryFor ?? .seconds(max(60, 2 * leaseSeconds))
        self.heartbeatFraction = heartbeatFraction
        self.logger = logger
        self.onJobFinished = onJobFinished
    }

    /// True once ``stop()`` was called.
    public var isStopRequested: Bool { stopFlag.isSet }

    /// Jobs handled so far (whatever their outcome).
    public var jobsHandled: Int { handled.withLock { $0 } }

    /// Asks ``run(maxJobs:handler:)`` to stop, as the Python worker does on SIGTERM: claim
    /// nothing more (a long poll in progress is waited out, at most `waitSeconds`, and a
    /// job it brings is released at once); let the handler finish what it is doing —
    /// a call in flight completes, so an account in hand is never dropped — while
    /// `context.isStopping` turns true (``JobContext/sleep(for:)`` returns false,
    /// ``JobContext/check()`` throws); then complete the job if every account is recorded,
    /// else release it, and return. A handler that ignores `isStopping` runs to the end of
    /// its job. Safe from any thread or task, e.g. a signal source's handler.
    public func stop() {
        if stopFlag.set() {
            logger.notice("worker \(workerID): stop requested; finishing the current job, claiming no more")
        } else {
            logger.warning("worker \(workerID): stop requested again; already stopping")
        }
    }

    /// Claims and handles jobs until stopped (``stop()``, heartbeat `shutdown`) or
    /// `maxJobs` were handled; returns the number handled. Throws ``BotrixError`` for a
    /// claim error no retry fixes (401, 403, 422), and `CancellationError` when the
    /// calling task is cancelled (the current job is then abandoned: its lease runs out).
    @discardableResult
    public func run(maxJobs: Int? = nil, handler: @escaping Handler) async throws -> Int {
        var count = 0
        var key: String?
        var ambiguous = false  // the last claim broke off without an answer
        var failures = 0
        while !stopFlag.isSet && !noMoreClaims.isSet {
            if let maxJobs, count >= maxJobs { break }
            try Task.checkCancellation()
            let claimKey = key ?? IdempotencyKey.make(prefix: "claim")
            key = claimKey
            let claim: Claim?
            do {
                let stop = stopFlag
                claim = try await client.claim(
                    workerID: workerID, leaseSeconds: leaseSeconds, waitSeconds: waitSeconds,
                    options: CallOptions(idempotencyKey: claimKey, abort: { stop.isSet }))
            } catch let error as BotrixError where error.isTransient {
                if case .transport = error { ambiguous = true } else { ambiguous = false }
                failures += 1
                let delay = min(30.0, 0.5 * Double(1 << min(failures, 6)))
                logger.warning("claim failed (\(error.detail)); retrying in \(delay) s")
                try await sleepUnlessStopped(.seconds(delay))
                continue  // same key: a claim that went through is replayed, not doubled
            }
            key = nil
            ambiguous = false
            failures = 0
            guard let claim else { continue }
            if stopFlag.isSet {
                await releaseUnstarted(claim)
                break
            }
            await process(claim, handler: handler)
            count += 1
            handled.withLock { $0 += 1 }
        }
        if ambiguous, let key { await resolveAmbiguousClaim(key) }
        logger.info("worker \(workerID) stopped after \(count) job(s)")
        return count
    }

    /// Sleeps up to `duration`, ending early once a stop is requested.
    private func sleepUnlessStopped(_ duration: Duration) async throws {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while !stopFlag.isSet && clock.now < end {
            try await Task.sleep(for: min(end - clock.now, .milliseconds(100)))
        }
    }

    /// A claim broke off mid-request: if the server took it, its key replays the job (which
    /// is released) rather than leaving it leased to nobody until the lease runs out.
    private func resolveAmbiguousClaim(_ key: String) async {
        let replayed: Claim?
        do {
            replayed = try await client.claim(
                workerID: workerID, leaseSeconds: leaseSeconds, waitSeconds: waitSeconds,
                options: CallOptions(idempotencyKey: key, maxRetries: 0))
        } catch {
            return
        }
        if let replayed { await releaseUnstarted(replayed) }
    }

    /// Gives back a job claimed while stopping, before any work on it.
    private func releaseUnstarted(_ claim: Claim) async {
        var outcome = JobReport.Outcome.released(reason: "worker stopping")
        var job = claim.job
        do {
            job = try await client.release(claim, reason: "worker stopping", options: CallOptions(retryFor: retryFor))
            logger.info("released job \(claim.jobID) unstarted (worker stopping)")
        } catch {
            logger.warning("could not release job \(claim.jobID): \(error)")
            outcome = .unreported(action: "release", error: "\(error)")
        }
        onJobFinished?(JobReport(jobID: claim.jobID, attempt: claim.attempt, outcome: outcome, accounts: [], job: job))
    }
}
