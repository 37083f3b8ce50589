import NIOHTTP1

/// The low-level worker calls: claim, heartbeat, progress, accounts, complete, fail,
/// release. ``Worker`` builds its loop on these; a program with a loop of its own can too.
/// Every call on a claimed job names the attempt (a ``Claim``); one of an earlier attempt
/// gets 409 and changes nothing.
extension BotrixClient {
    /// Leases the head of the queue (`POST /api/queue/claim`); nil when nothing was ready.
    /// - Parameters:
    ///   - leaseSeconds: the lease length (the server's `LEASE_SECONDS` when nil).
    ///   - waitSeconds: 0…30: when no job is ready, wait this long for one (long poll).
    ///     The request's timeout grows by as much.
    public func claim(
        workerID: String, leaseSeconds: Int? = nil, waitSeconds: Int? = nil, options: CallOptions = CallOptions()
    ) async throws -> Claim? {
        try await claims(
            workerID: workerID, leaseSeconds: leaseSeconds, waitSeconds: waitSeconds, maxJobs: nil, options: options
        ).first
    }

    /// Leases up to `maxJobs` (1…32) jobs at once, each with its own lease and token; empty
    /// when nothing was ready.
    public func claim(
        workerID: String, leaseSeconds: Int? = nil, waitSeconds: Int? = nil, maxJobs: Int,
        options: CallOptions = CallOptions()
    ) async throws -> [Claim] {
        try await claims(
            workerID: workerID, leaseSeconds: leaseSeconds, waitSeconds: waitSeconds, maxJobs: maxJobs,
            options: options)
    }

    private func claims(
        workerID: String, leaseSeconds: Int?, waitSeconds: Int?, maxJobs: Int?, options: CallOptions
    ) async throws -> [Claim] {
        let body = try JSONBody.encode(
            ClaimBody(workerID: workerID, leaseSeconds: leaseSeconds, waitSeconds: waitSeconds, maxJobs: maxJobs))
        let answer = try await send(
            .POST, "/api/queue/claim", body: body, options: options, extraTime: .seconds(max(0, waitSeconds ?? 0)))
        if answer.status == 204 || answer.body.isEmpty { return [] }
        let claims = try answer.decode(ClaimAnswer.self).claims(workerID: workerID)
        guard !claims.isEmpty else { throw BotrixError.unexpected(status: answer.status, body: answer.text) }
        return claims
    }

    /// Renews the lease (`POST /api/jobs/{id}/heartbeat`) and returns what to do next:
    /// `continue`, `cancel` (stop, report nothing more) or `shutdown` (finish or release).
    /// - Parameter leaseSeconds: renew by this much instead of the claimed length (a lease
    ///   is never shortened).
    public func heartbeat(
        _ claim: some ClaimReference, leaseSeconds: Int? = nil, options: CallOptions = CallOptions()
    ) async throws -> Heartbeat {
        let body = try JSONBody.encode(
            HeartbeatBody(workerID: claim.workerID, claimToken: claim.claimToken, leaseSeconds: leaseSeconds))
        return try await send(.POST, path(claim, "heartbeat"), body: body, options: options).decode(Heartbeat.self)
    }

    /// Reports progress counters and a message (`POST /api/jobs/{id}/progress`); also
    /// renews the lease. Returns the job.
    @discardableResult
    public func reportProgress(
        _ claim: some ClaimReference, progress: Int? = nil, successful: Int? = nil, failed: Int? = nil,
        message: String? = nil, options: CallOptions = CallOptions()
    ) async throws -> Job {
        let body = try JSONBody.encode(
            ProgressBody(
                workerID: claim.workerID, claimToken: claim.claimToken, progress: progress, successful: successful,
                failed: failed, message: message.map { JSONBody.truncated($0, maxBytes: 1000) }))
        return try await send(.POST, path(claim, "progress"), body: body, options: options).decode(Job.self)
    }

    /// Hands back one produced account (`POST /api/jobs/{id}/accounts`); returns it as
    /// stored (without its password). 422 when a field is invalid or the email or username
    /// is taken; 409 when the attempt may no longer act or the job has all its accounts.
    @discardableResult
    public func recordAccount(
        _ claim: some ClaimReference, _ account: NewAccount, options: CallOptions = CallOptions()
    ) async throws -> Account {
        let body = try JSONBody.encode(RecordAccountBody(claim, account))
        return try await send(.POST, path(claim, "accounts"), body: body, options: options).decode(Account.self)
    }

    /// Finishes the job (`POST /api/jobs/{id}/complete`). Returns the job.
    @discardableResult
    public func complete(_ claim: some ClaimReference, options: CallOptions = CallOptions()) async throws -> Job {
        let body = try JSONBody.encode(WorkerCallBody(workerID: claim.workerID, claimToken: claim.claimToken))
        return try await send(.POST, path(claim, "complete"), body: body, options: options).decode(Job.self)
    }

    /// Fails the attempt (`POST /api/jobs/{id}/fail`); `retry` puts the job back in the
    /// queue while attempts remain (an attempt is spent either way). Returns the job.
    @discardableResult
    public func fail(
        _ claim: some ClaimReference, error: String, retry: Bool = false, options: CallOptions = CallOptions()
    ) async throws -> Job {
        let text = JSONBody.truncated(error, maxBytes: 2000)
        let body = try JSONBody.encode(
            FailBody(
                workerID: claim.workerID, claimToken: claim.claimToken, error: text.isEmpty ? "error" : text,
                retry: retry))
        return try await send(.POST, path(claim, "fail"), body: body, options: options).decode(Job.self)
    }

    /// Gives the job back unfinished, without spending an attempt
    /// (`POST /api/jobs/{id}/release`). Returns the job (pending again).
    @discardableResult
    public func release(
        _ claim: some ClaimReference, reason: String? = nil, options: CallOptions = CallOptions()
    ) async throws -> Job {
        let body = try JSONBody.encode(
            ReleaseBody(
                workerID: claim.workerID, claimToken: claim.claimToken,
                reason: reason.map { JSONBody.truncated($0, maxBytes: 1000) }))
        return try await send(.POST, path(claim, "release"), body: body, options: options).decode(Job.self)
    }

    private func path(_ claim: some ClaimReference, _ action: String) -> String {
        "/api/jobs/\(URLText.escape(claim.jobID))/\(action)"
    }
}
