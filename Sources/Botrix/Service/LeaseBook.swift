import EventLog
import Foundation
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
    /// Per job: the attempt (its claim token's hash) the renewal was granted to, and its end.
    private let renewed = Mutex<[UUID: (attempt: String, until: Int64)]>([:])

    public init() {}

    /// The lease end (ms) renewed in memory for the job's current attempt, if any. A
    /// renewal of an earlier attempt (released, expired, failed) never counts.
    public func renewedUntil(_ job: JobView) -> Int64? {
        guard job.status == .running, let attempt = job.claimTokenHash else { return nil }
        return renewed.withLock { book in book[job.id].flatMap { $0.attempt == attempt ? $0.until : nil } }
    }

    /// Records a renewal to `until` (ms) for the job's current attempt; a later renewal of
    /// the same attempt never shortens an earlier one. Claims made before tokens are not
    /// renewed here (their renewals are recorded as events).
    func renew(_ job: JobView, until: Int64) {
        guard let attempt = job.claimTokenHash else { return }
        renewed.withLock { book in
            let earlier = book[job.id].flatMap { $0.attempt == attempt ? $0.until : nil } ?? 0
            book[job.id] = (attempt, max(earlier, until))
        }
    }

    /// Forgets renewals that ended before `now` minus an hour (their jobs finished or
    /// expired long ago): the book holds about one entry per running job.
    func prune(now: Int64) {
        renewed.withLock { book in book = book.filter { $0.value.until >= now - 3_600_000 } }
    }

    /// Renewals held (a gauge; tests).
    public var count: Int { renewed.withLock { $0.count } }

    /// `job` with its lease end as renewed in memory (when later than the recorded one).
    func overlay(_ job: JobView) -> JobView {
        guard let until = renewedUntil(job),
            until > (job.leaseExpiresAt.flatMap(Timestamp.parse) ?? 0)
        else { return job }
        var job = job
        job.leaseExpiresAt = Timestamp.rfc3339(milliseconds: until)
        return job
    }
}
