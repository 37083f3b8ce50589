import EventLog
public import Foundation
import Synchronization

/// Totals of queue outcomes since the process started (exported as Prometheus counters).
public final class QueueTotals: Sendable {
    private let values = Mutex<(leaseExpiries: Int, retries: Int)>((0, 0))
    public var leaseExpiries: Int { values.withLock { $0.leaseExpiries } }
    public var retries: Int { values.withLock { $0.retries } }
    func expired(_ count: Int) { values.withLock { $0.leaseExpiries += count } }
    func retried() { values.withLock { $0.retries += 1 } }
}

/// Lease renewals kept in memory instead of in the log. A heartbeat appends an event only
/// when the lease recorded in the log has less than half a lease length left; otherwise it
/// renews here. So a job's renewals add at most one event per half lease, however often
/// its worker beats: with LEASE_SECONDS=300, at most 576 a day per running job, whether
/// the worker beats every 10 s or every second (instead of one event per beat).
///
/// What a restart keeps: the lease recorded in the log, which is never less than half a
/// lease length behind what the worker was told — so a worker that renews at least every
/// half lease (the clients renew every third) keeps its job across a restart; a rebuild
/// reproduces exactly the recorded leases.
public final class LeaseBook: Sendable {
    private let renewed = Mutex<[UUID: Int64]>([:])

    public init() {}

    /// The lease end (ms) renewed in memory for `job`, if any.
    public func renewedUntil(_ job: UUID) -> Int64? { renewed.withLock { $0[job] } }

    /// Records a renewal to `until` (ms); a later renewal never shortens an earlier one.
    func renew(_ job: UUID, until: Int64) { renewed.withLock { $0[job] = max($0[job] ?? 0, until) } }

    /// Forgets renewals that ended before `now` minus an hour (their jobs finished or
    /// expired long ago): the book holds about one entry per running job.
    func prune(now: Int64) {
        renewed.withLock { book in book = book.filter { $0.value >= now - 3_600_000 } }
    }

    /// Renewals held (a gauge; tests).
    public var count: Int { renewed.withLock { $0.count } }

    /// `job` with its lease end as renewed in memory (when later than the recorded one).
    func overlay(_ job: JobView) -> JobView {
        guard job.status == .running, let until = renewedUntil(job.id),
            until > (job.leaseExpiresAt.flatMap(Timestamp.parse) ?? 0)
        else { return job }
        var job = job
        job.leaseExpiresAt = Timestamp.rfc3339(milliseconds: until)
        return job
    }
}
