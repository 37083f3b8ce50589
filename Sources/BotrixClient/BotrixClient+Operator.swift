import NIOHTTP1

/// The operator's calls: create, read, list and cancel jobs; list accounts; stats and health.
extension BotrixClient {
    /// True when `/health/ping` answers 200 (one try, no retries, at most 5 s).
    public func ping() async -> Bool {
        let options = CallOptions(maxRetries: 0, timeout: min(requestTimeout, .seconds(5)))
        return (try? await send(.GET, "/health/ping", options: options)) != nil
    }

    /// `GET /health`: storage, writer, projections. A degraded server answers 503 with the
    /// same report, which is returned rather than thrown.
    public func health(options: CallOptions = CallOptions()) async throws -> Health {
        try await send(.GET, "/health", options: options, accepting: [503]).decode(Health.self)
    }

    /// Creates a job of `count` accounts (`POST /api/jobs`).
    /// - Parameters:
    ///   - priority: 0…10 or a name; the server's default is `normal` (1).
    ///   - idempotencyKey: send the same key to create the job once however often the call
    ///     is repeated (also across processes); nil makes one for this call's retries.
    public func createJob(
        count: Int, priority: Priority? = nil, verificationEnabled: Bool? = nil, idempotencyKey: String? = nil,
        options: CallOptions = CallOptions()
    ) async throws -> JobAccepted {
        var options = options
        if let idempotencyKey { options.idempotencyKey = idempotencyKey }
        let body = try JSONBody.encode(
            CreateJobBody(count: count, priority: priority, verificationEnabled: verificationEnabled))
        return try await send(.POST, "/api/jobs", body: body, options: options).decode(JobAccepted.self)
    }

    /// One job (`GET /api/jobs/{id}`); 404 when there is none.
    public func job(_ id: String, options: CallOptions = CallOptions()) async throws -> Job {
        try await send(.GET, "/api/jobs/\(URLText.escape(id))", options: options).decode(Job.self)
    }

    /// One page of jobs, newest first (`GET /api/jobs`). Pass the page's
    /// `pagination.next` as `after` for the next page.
    public func jobs(
        status: JobStatus? = nil, limit: Int? = nil, after: String? = nil, page: Int? = nil,
        options: CallOptions = CallOptions()
    ) async throws -> Page<Job> {
        let query: [(String, String?)] = [
            ("status", status?.rawValue), ("limit", limit.map { String($0) }), ("after", after),
            ("page", page.map { String($0) }),
        ]
        return try await send(.GET, "/api/jobs", query: query, options: options).decode(Page<Job>.self)
    }

    /// One page of accounts, newest first (`GET /api/accounts`), optionally of one job.
    public func accounts(
        jobID: String? = nil, status: AccountStatus? = nil, limit: Int? = nil, after: String? = nil,
        page: Int? = nil, options: CallOptions = CallOptions()
    ) async throws -> Page<Account> {
        let query: [(String, String?)] = [
            ("job_id", jobID), ("status", status?.rawValue), ("limit", limit.map { String($0) }), ("after", after),
            ("page", page.map { String($0) }),
        ]
        return try await send(.GET, "/api/accounts", query: query, options: options).decode(Page<Account>.self)
    }

    /// One account; `revealPassword` needs a key with the `secrets` scope.
    public func account(_ id: Int, revealPassword: Bool = false, options: CallOptions = CallOptions())
        async throws -> Account
    {
        let query: [(String, String?)] = [("reveal", revealPassword ? "password" : nil)]
        return try await send(.GET, "/api/accounts/\(id)", query: query, options: options).decode(Account.self)
    }

    /// Cancels a job (`POST /api/jobs/{id}/cancel`): 409 when it already finished, 412
    /// when `ifMatch` (a job's ``Job/etag``) is stale. Its worker learns of it at its next
    /// heartbeat or call.
    public func cancel(
        _ jobID: String, reason: String? = nil, ifMatch: String? = nil, idempotencyKey: String? = nil,
        options: CallOptions = CallOptions()
    ) async throws -> Job {
        var options = options
        if let idempotencyKey { options.idempotencyKey = idempotencyKey }
        let body = try JSONBody.encode(CancelBody(reason: reason.map { JSONBody.truncated($0, maxBytes: 1000) }))
        let headers: [(String, String)] = ifMatch.map { [("If-Match", $0)] } ?? []
        return try await send(
            .POST, "/api/jobs/\(URLText.escape(jobID))/cancel", body: body, headers: headers, options: options
        ).decode(Job.self)
    }

    /// Totals by status, queue depth, active leases, success rate (`GET /api/jobs/stats`).
    public func stats(options: CallOptions = CallOptions()) async throws -> JobStats {
        try await send(.GET, "/api/jobs/stats", options: options).decode(JobStats.self)
    }

    /// The events of one job, oldest first, after sequence `after` (`GET /api/jobs/{id}/events`).
    public func events(
        ofJob jobID: String, after: Int? = nil, limit: Int? = nil, options: CallOptions = CallOptions()
    ) async throws -> EventPage {
        let query: [(String, String?)] = [("after", after.map { String($0) }), ("limit", limit.map { String($0) })]
        return try await send(.GET, "/api/jobs/\(URLText.escape(jobID))/events", query: query, options: options)
            .decode(EventPage.self)
    }
}

/// `POST /api/jobs`.
struct CreateJobBody: Encodable {
    var count: Int
    var priority: Priority?
    var verificationEnabled: Bool?

    enum CodingKeys: String, CodingKey {
        case count, priority
        case verificationEnabled = "verification_enabled"
    }
}

/// `POST /api/jobs/{id}/cancel`.
struct CancelBody: Encodable {
    var reason: String?
}
