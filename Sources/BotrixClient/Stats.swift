/// Totals of `GET /api/jobs/stats`: what an operator's dashboard shows.
public struct JobStats: Sendable, Hashable, Decodable {
    /// Jobs in every status.
    public var total: Int
    /// Jobs per status name (`pending`, `running`, …).
    public var byStatus: [String: Int]
    /// Pending jobs per priority ("0"…"10").
    public var queueDepthByPriority: [String: Int]
    /// Pending jobs in all priorities.
    public var queueDepth: Int
    /// Running jobs holding a lease.
    public var activeLeases: Int
    /// Completed over finished; nil before any job finished.
    public var successRate: Double?

    /// Jobs in `status`.
    public func count(_ status: JobStatus) -> Int { byStatus[status.rawValue] ?? 0 }

    enum CodingKeys: String, CodingKey {
        case total
        case byStatus = "by_status"
        case queueDepthByPriority = "queue_depth_by_priority"
        case queueDepth = "queue_depth"
        case activeLeases = "active_leases"
        case successRate = "success_rate"
    }
}

/// `GET /health`: storage, writer and projections; `status` is `ok` or `degraded`.
public struct Health: Sendable, Hashable, Decodable {
    /// `ok` or `degraded`.
    public var status: String
    /// Each check's details, as the server reports them.
    public var checks: JSONValue
    /// The server's version.
    public var version: String
    /// Seconds since the server started.
    public var uptimeSeconds: Double

    /// True when the server says `ok`.
    public var isHealthy: Bool { status == "ok" }

    enum CodingKeys: String, CodingKey {
        case status, checks, version
        case uptimeSeconds = "uptime_seconds"
    }
}

/// One event of the log as the API shows it: the audit trail of a job.
public struct LoggedEvent: Sendable, Hashable, Decodable {
    /// Global sequence, gapless.
    public var seq: Int
    /// `job-<uuid>` or `account-<id>`.
    public var stream: String
    /// Position within the stream.
    public var version: Int
    /// The event type, e.g. `JobCreated`, `JobCancelled`.
    public var type: String
    /// When it was appended (RFC 3339 UTC, milliseconds).
    public var recordedAt: String
    /// The event's fields (see `schemas/events/`).
    public var data: JSONValue

    enum CodingKeys: String, CodingKey {
        case seq, stream, version, type, data
        case recordedAt = "recorded_at"
    }
}

/// A page of events: `nextAfter` is the `after` of the next request, `more` whether to go on.
public struct EventPage: Sendable, Hashable, Decodable {
    /// The events, oldest first.
    public var data: [LoggedEvent]
    /// The log's last sequence.
    public var head: Int
    /// The `after` of the next request.
    public var nextAfter: Int?
    /// True when the read stopped before the end of what matched.
    public var more: Bool

    enum CodingKeys: String, CodingKey {
        case data, head, more
        case nextAfter = "next_after"
    }
}
