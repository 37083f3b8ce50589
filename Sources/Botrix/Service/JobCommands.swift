public import Foundation

extension BotrixService {
    /// Creates a pending job; it joins the queue at the back of its priority.
    public func createJob(_ command: CreateJob, metadata: CommandMetadata = .init()) async throws -> JobView {
        defer { wakeWaitingClaims() }
        return try await run(metadata) { ltx, scope in
            let existing = try scope.projections.jobs.view(command.jobID, in: ltx.reading)
            try scope.emit(JobDecider.create(command, existing, scope.context), expected: .noStream, in: &ltx)
            return try scope.job(command.jobID, in: ltx)
        }
    }

    /// Leases the head of the queue to `workerID`; nil when the queue is empty. The answer
    /// carries the attempt's claim token, which every later call of the attempt must send.
    public func claim(workerID: String, leaseSeconds: Int? = nil, metadata: CommandMetadata = .init())
        async throws -> ClaimedJob?
    {
        try await claim(workerID: workerID, leaseSeconds: leaseSeconds, maxJobs: 1, metadata: metadata).first
    }

    /// Leases up to `maxJobs` jobs from the head of the queue in one command, each with its
    /// own lease and token; empty when the queue is.
    public func claim(workerID: String, leaseSeconds: Int? = nil, maxJobs: Int, metadata: CommandMetadata = .init())
        async throws -> [ClaimedJob]
    {
        let tokens = (0..<max(1, maxJobs)).map { _ in ClaimToken.generate() }
        return try await run(metadata) { ltx, scope in
            try JobDecider.validateWorker(workerID)
            var claimed: [ClaimedJob] = []
            for token in tokens {
                guard
                    let head = try scope.projections.jobs.nextToClaim(
                        now: scope.context.leaseNow, agingSeconds: scope.context.queueAgingSeconds, in: ltx.reading)
                else { break }
                let job = try scope.onJob(head, in: &ltx) {
                    try JobDecider.claim(
                        $0, workerID: workerID, leaseSeconds: leaseSeconds, claimTokenHash: ClaimToken.hash(token),
                        apiKey: scope.metadata.apiKey, scope.context)
                }
                claimed.append(ClaimedJob(job: job, claimToken: token))
            }
            return claimed
        }
    }

    /// Like ``claim(workerID:leaseSeconds:maxJobs:metadata:)``, but when the queue is empty
    /// waits up to `wait` for work (long polling): waiting claims are served in arrival
    /// order as jobs become ready; empty when the time ran out or the server stops.
    /// - Parameter owner: whose share of waiting claims this uses (the API key id, or "open").
    /// - Parameter allowed: asked before a waiting claim is served: false (its API key was
    ///   revoked meanwhile) ends it with ``ClaimWaitRevoked`` and leases nothing.
    /// - Parameter whenGone: registers a callback for when the client goes away; a claim
    ///   then stops waiting, and jobs claimed for it meanwhile are released (no attempt spent).
    public func claim(
        workerID: String, leaseSeconds: Int? = nil, maxJobs: Int, wait: Duration, owner: String,
        metadata: CommandMetadata = .init(), allowed: @escaping @Sendable () -> Bool = { true },
        whenGone: (@escaping @Sendable () -> Void) -> Void = { _ in }
    ) async throws -> [ClaimedJob] {
        var first = metadata
        if wait > .zero { first.replay?.keep = { ($0 as? [ClaimedJob])?.isEmpty == false } }
        let ticket = claimWaiters.ticket()
        let now = try await claim(workerID: workerID, leaseSeconds: leaseSeconds, maxJobs: maxJobs, metadata: first)
        guard now.isEmpty, wait > .zero else { return now }
        let request = ClaimWaiters.Request(
            workerID: workerID, leaseSeconds: leaseSeconds, maxJobs: maxJobs, metadata: first, allowed: allowed)
        let giveBack: @Sendable ([ClaimedJob]) async -> Void = { [self] jobs in
            for claimed in jobs {
                _ = try? await self.release(
                    jobID: claimed.job.id, workerID: workerID, claimToken: claimed.claimToken,
                    reason: "the claiming client went away", metadata: CommandMetadata(apiKey: metadata.apiKey))
            }
        }
        return try await claimWaiters.wait(
            request, owner: owner, timeout: wait, since: ticket, whenGone: whenGone, giveBack: giveBack,
            claim: waitingClaim)
    }

    /// How a waiting claim is served when woken.
    var waitingClaim: @Sendable (ClaimWaiters.Request) async throws -> [ClaimedJob] {
        { [self] request in
            try await self.claim(
                workerID: request.workerID, leaseSeconds: request.leaseSeconds, maxJobs: request.maxJobs,
                metadata: request.metadata)
        }
    }

    /// Serves waiting claims after a command that may have made a job ready.
    func wakeWaitingClaims() { claimWaiters.wake(claim: waitingClaim) }

    /// ``claim(workerID:leaseSeconds:metadata:)`` without the token (tests, tools).
    public func claimNext(workerID: String, leaseSeconds: Int? = nil, metadata: CommandMetadata = .init())
        async throws -> JobView?
    {
        try await claim(workerID: workerID, leaseSeconds: leaseSeconds, metadata: metadata)?.job
    }

    /// Extends the lease of the attempt holding the job, by the length it claimed (or
    /// `leaseSeconds`). On a job cancelled under it, appends nothing: the answer's
    /// ``WorkerInstruction`` tells the worker to stop.
    public func heartbeat(
        jobID: UUID, workerID: String, claimToken: String? = nil, leaseSeconds: Int? = nil,
        metadata: CommandMetadata = .init()
    ) async throws -> JobView {
        let call = WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: metadata.apiKey)
        let leases = self.leases
        return try await run(metadata) { ltx, scope in
            // The job as recorded: whether to write an event depends on the recorded lease.
            guard let job = try scope.projections.jobs.view(jobID, in: ltx.reading) else {
                throw DomainError.notFound(kind: "job", id: jobID.text)
            }
            let renewal = try JobDecider.heartbeat(
                job, call, leaseSeconds: leaseSeconds, renewedUntil: leases.renewedUntil(job), scope.context)
            // Granted inside the writer, before any later batch can decide an expiry.
            if let until = renewal.until { leases.renew(job, until: until) }
            try scope.emit(renewal.events, expected: .exact(job.version), in: &ltx)
            return leases.overlay(try scope.job(jobID, in: ltx))
        }
    }

    /// Records the holder's progress report and extends its lease.
    public func reportProgress(_ command: ReportProgress, metadata: CommandMetadata = .init()) async throws -> JobView {
        var command = command
        command.apiKey = metadata.apiKey
        return try await run(metadata) { [command] ltx, scope in
            try scope.onJob(command.jobID, in: &ltx) { try JobDecider.progress($0, command, scope.context) }
        }
    }

    /// Finishes the job for the attempt holding it.
    public func complete(
        jobID: UUID, workerID: String, claimToken: String? = nil, metadata: CommandMetadata = .init()
    ) async throws -> JobView {
        let call = WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: metadata.apiKey)
        return try await run(metadata) { ltx, scope in
            try scope.onJob(jobID, in: &ltx) { try JobDecider.complete($0, call, scope.context) }
        }
    }

    /// Fails the job; with `retry` it returns to the queue while attempts remain.
    public func fail(
        jobID: UUID, workerID: String, claimToken: String? = nil, error: String, retry: Bool,
        metadata: CommandMetadata = .init()
    ) async throws -> JobView {
        let call = WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: metadata.apiKey)
        defer { wakeWaitingClaims() }
        let job = try await run(metadata) { ltx, scope in
            try scope.onJob(jobID, in: &ltx) {
                try JobDecider.fail($0, call, error: error, retry: retry, scope.context)
            }
        }
        if retry, job.status == .pending { queueTotals.retried() }
        return job
    }

    /// Gives the job back unfinished without spending an attempt.
    public func release(
        jobID: UUID, workerID: String, claimToken: String? = nil, reason: String? = nil,
        metadata: CommandMetadata = .init()
    ) async throws -> JobView {
        let call = WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: metadata.apiKey)
        defer { wakeWaitingClaims() }
        return try await run(metadata) { ltx, scope in
            try scope.onJob(jobID, in: &ltx) { try JobDecider.release($0, call, reason: reason, scope.context) }
        }
    }

    /// The older `PUT /api/jobs/{id}`: progress and an outcome decided and appended
    /// together (one command, so one idempotent answer). `workerID` "" means not named.
    public func legacyUpdate(
        jobID: UUID, workerID: String, claimToken: String? = nil, progress: Int?, status: String?, error: String?,
        metadata: CommandMetadata = .init()
    ) async throws -> JobView {
        let call = WorkerCall(workerID: workerID, claimToken: claimToken, apiKey: metadata.apiKey)
        return try await run(metadata) { ltx, scope in
            try scope.onJob(jobID, in: &ltx) {
                try JobDecider.legacyUpdate(
                    $0, call, progress: progress, status: status, error: error, scope.context)
            }
        }
    }

    /// Cancels a pending or running job; `expectedVersion` (and `expectedProgress`, when
    /// the client sent the job's whole ETag) is the client's `If-Match`.
    public func cancel(
        jobID: UUID, expectedVersion: UInt64? = nil, expectedProgress: Int? = nil, reason: String? = nil,
        metadata: CommandMetadata = .init()
    ) async throws -> JobView {
        try await run(metadata) { ltx, scope in
            try scope.onJob(jobID, in: &ltx) {
                try JobDecider.cancel(
                    $0, expectedVersion: expectedVersion, expectedProgress: expectedProgress, reason: reason)
            }
        }
    }

    /// Expires the job's lease if it ran out by the writer's clock (else a conflict).
    public func expireLease(jobID: UUID, metadata: CommandMetadata = .init()) async throws -> JobView {
        defer { wakeWaitingClaims() }
        let leases = self.leases
        return try await run(metadata) { ltx, scope in
            try scope.onJob(jobID, in: &ltx) {
                try JobDecider.expireLease($0, renewedUntil: leases.renewedUntil($0), scope.context)
            }
        }
    }

    /// Expires every lease that ran out; returns how many. The lease monitor calls this.
    @discardableResult
    public func expireDueLeases() async throws -> Int {
        let now = leaseClock()
        leases.prune(now: now)
        let jobs = projections.jobs
        let due = try store.environment.read { txn in
            try jobs.leasesDue(at: now, in: txn).filter { id in
                // Renewed in memory for the current attempt: not due.
                (try jobs.view(id, in: txn)).map { (leases.renewedUntil($0) ?? 0) <= now } ?? true
            }
        }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            for jobID in due {
                group.addTask {
                    do {
                        _ = try await self.expireLease(jobID: jobID, metadata: CommandMetadata(actor: "lease-monitor"))
                        return true
                    } catch is DomainError {
                        return false  // renewed or finished meanwhile
                    }
                }
            }
            let expired = try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            queueTotals.expired(expired)
            return expired
        }
    }

    /// Puts retries whose backoff is over back in the queue (`JobRetryDue`), up to
    /// `limit` in one command; returns how many. The lease monitor calls this each round,
    /// so queue depth and `GET /api/queue` count them within about a second. (A claim
    /// does not wait for it: it also takes due retries straight from their index.)
    @discardableResult
    public func queueDueRetries(limit: Int = 1000) async throws -> Int {
        let jobs = projections.jobs
        let now = leaseClock()
        let due = try store.environment.read { try jobs.dueRetries(at: now, limit: limit, in: $0) }
        guard !due.isEmpty else { return 0 }
        defer { wakeWaitingClaims() }
        return try await run(CommandMetadata(actor: "lease-monitor")) { ltx, scope in
            var queued = 0
            for id in due {
                // Claimed or cancelled since the read: nothing to do for it.
                guard let job = try scope.projections.jobs.view(id, in: ltx.reading),
                    let events = try? JobDecider.retryDue(job, scope.context)
                else { continue }
                try scope.emit(events, expected: .exact(job.version), in: &ltx)
                queued += 1
            }
            return queued
        }
    }

    /// Checks for expired leases every `interval` until the task is cancelled.
    /// - Parameter failed: told each error (the server logs it); the loop goes on, since a
    ///   full disk or a busy writer is usually over by the next round.
    public func monitorLeases(
        every interval: Duration = .seconds(1), failed: @Sendable (any Error) -> Void = { _ in }
    ) async {
        while !Task.isCancelled {
            // Each on its own: an expiry that fails (a damaged job, a full disk) must not
            // keep due retries out of the queue, nor the other way round.
            do { _ = try await expireDueLeases() } catch { failed(error) }
            // A retry's backoff ended: into the queue, and waiting claims are woken.
            do { _ = try await queueDueRetries() } catch { failed(error) }
            try? await Task.sleep(for: interval)
        }
    }
}
