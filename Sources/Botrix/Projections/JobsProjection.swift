public import EventLog
public import Foundation
public import Storage

/// Jobs: the views, the by-status and by-creation indexes, the queue, the retries
/// waiting out their backoff, the leases by expiry, and their counters — all written in
/// the transaction of the event.
public struct JobsProjection: Projection {
    public static let name = "jobs"
    let views: Database
    let byCreated: Database
    let byStatus: Database
    let queue: Database
    /// Pending jobs that may not be claimed before their `available_at` (a retry's
    /// backoff), by that time. A job is here or in `queue`, never both: whether its time
    /// has come depends on the clock, which a projection must not read, so the claim
    /// looks at both (see ``nextToClaim(now:agingSeconds:in:)``).
    let delayed: Database
    let leases: Database
    let counters: Counters

    public init(environment: any StorageEngine) throws {
        views = try environment.database("jobs.views")
        byCreated = try environment.database("jobs.by_created")
        byStatus = try environment.database("jobs.by_status")
        queue = try environment.database("jobs.queue")
        delayed = try environment.database("jobs.delayed")
        leases = try environment.database("jobs.leases")
        counters = Counters(database: try environment.database("jobs.counters"))
    }

    /// Its checkpoint sits beside its counters.
    public var checkpointDatabase: Database { counters.database }

    /// Every database this projection owns, for reset and digests.
    public var databases: [Database] { [views, byCreated, byStatus, queue, delayed, leases, counters.database] }

    /// The job, or nil.
    public func view(_ id: UUID, in txn: some TransactionReading) throws -> JobView? {
        try txn.withValue(views, Keys.uuid(id)) { raw in
            try raw.map { try JobView(row: Array($0)) }
        }
    }

    /// Folds one event into the rows it changes.
    public func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {
        guard let jobID = event.jobID else { return }
        let old = try view(jobID, in: ltx.reading)
        guard let new = JobView.evolve(old, event, position) else { return }
        try ltx.put(views, Keys.uuid(jobID), new.row())
        let (before, after) = (old.map(JobIndexFields.init), JobIndexFields(new))
        try moveEntries(from: before, to: after, created: after.createdSequence, in: &ltx)
        var changes = CounterChanges()
        Self.count(from: before, to: after, into: &changes)
        try counters.apply(changes, in: &ltx)
    }

    /// Folds a replay's page: each job's row is read once, evolved in memory through the
    /// page and written once at its end, with its index entries moved once, from where the
    /// page found them to where its last event leaves them, and each counter written once
    /// with the page's sum. In a rebuild every account event rewrites its job's row, so this
    /// saves a row decode, encode and write per event; and a job created, claimed and
    /// completed within one page gets one put per index instead of a put and a delete per
    /// step (`perf`: moving index entries step by step was an eighth of this fold).
    ///
    /// Moving once is the same as moving step by step: an entry's key is a function of the
    /// job's ``JobIndexFields`` and holds the job's id or creation sequence, so no two jobs
    /// share a key and the deletes and puts of the steps between cancel out; the fields
    /// survive a row's round trip, so the fields of the last view evolved here are what
    /// reading its row would give. The by-creation entry is no move: the live fold puts it
    /// once, at the job's first creation, and never moves it (a log that creates a job again
    /// resets its view, not that entry), so the page puts it at the creation sequence the job
    /// had when the page first made it.
    /// The counters are summed step by step as before (in memory), so a counter a step
    /// touched is written even when its sum is zero, as the live fold leaves it.
    /// `PageFoldTests` holds this to the live fold, event by event, byte for byte.
    public func apply(page: [DecodedEvent], in ltx: inout LogTransaction) throws {
        // The page's jobs in the order first met, and where each is. Not a dictionary of
        // views: reading a view through `Dictionary.Values` copies it (every field retained,
        // then released), which was a fifth of this fold (`perf`).
        var slots: [UUID: Int] = [:]
        var ids: [UUID] = []
        var latest: [JobView] = []
        // Each job's index fields as the page found it (nil: it did not exist), and its
        // creation sequence when this page first made it.
        var found: [JobIndexFields?] = []
        var created: [UInt64] = []
        var changes = CounterChanges()
        // Each event read where it is (see ``DecodedEvent``): reading `(event, position)`
        // pairs out of the page copied each, another fifth of this fold.
        for decoded in page {
            guard let jobID = decoded.event.jobID else { continue }
            if let slot = slots[jobID] {
                // What reading the job's row would give: the last view evolved here, as
                // its row keeps it.
                if !latest[slot].survivesRow {
                    latest[slot] = try JobView(row: latest[slot].row())
                }
                let before = JobIndexFields(latest[slot])
                JobView.evolve(&latest[slot], decoded.event, decoded.position)
                Self.count(from: before, to: JobIndexFields(latest[slot]), into: &changes)
            } else {
                let old = try view(jobID, in: ltx.reading)
                guard let new = JobView.evolve(old, decoded.event, decoded.position) else { continue }
                slots[jobID] = latest.count
                ids.append(jobID)
                latest.append(new)
                found.append(old.map(JobIndexFields.init))
                created.append(new.createdSequence)
                Self.count(from: found[found.count - 1], to: JobIndexFields(new), into: &changes)
            }
        }
        for slot in latest.indices {
            try moveEntries(
                from: found[slot], to: JobIndexFields(latest[slot]), created: created[slot], in: &ltx)
            try ltx.put(views, Keys.uuid(ids[slot]), latest[slot].row())
        }
        try counters.apply(changes, in: &ltx)
    }

    /// Moves a job's index entries from where `old` put them (nil: it did not exist) to
    /// where `new` (the same job) puts them. Each index key is a function of a few fields
    /// (see ``Keys``): an index whose fields did not change is skipped without building its
    /// keys, since most steps of a job (an account recorded, a progress report) change one
    /// index or none. A new job's by-creation entry is put under `created`.
    private func moveEntries(
        from old: JobIndexFields?, to new: JobIndexFields, created: UInt64, in ltx: inout LogTransaction
    ) throws {
        let id = Keys.uuid(new.id)
        if old == nil { try ltx.put(byCreated, BigEndian.bytes(created), id) }
        if old?.statusKeyDiffers(from: new) ?? true {
            try move(byStatus, from: old.map(Keys.jobStatus), to: Keys.jobStatus(new), value: id, in: &ltx)
        }
        if old?.queueKeyDiffers(from: new) ?? true {
            try move(queue, from: old.flatMap(Self.queueKey), to: Self.queueKey(new), value: id, in: &ltx)
        }
        if old?.delayedKeyDiffers(from: new) ?? true {
            try move(delayed, from: old.flatMap(Self.delayedKey), to: Self.delayedKey(new), value: [], in: &ltx)
        }
        if old?.leaseKeyDiffers(from: new) ?? true {
            try move(leases, from: old.flatMap(Keys.lease), to: Keys.lease(new), value: [], in: &ltx)
        }
    }

    /// The counter changes of one step of a job, from `old` (nil: it did not exist) to `new`:
    /// the total, by status, the queue by priority, the retries waiting, the leases. Kept
    /// apart from ``moveEntries(from:to:created:in:)`` so a replay's page can sum them step by step
    /// while it moves the entries once; it asks whether the job has each entry without
    /// building the entry's key, and names its counters from tables made once (`perf`: keys
    /// and names made here per step were a tenth of a replay's jobs fold).
    private static func count(from old: JobIndexFields?, to new: JobIndexFields, into changes: inout CounterChanges) {
        if old == nil { changes.add(1, to: "total") }
        if old?.status != new.status {
            if let old { changes.add(-1, to: statusCounter(old.status)) }
            changes.add(1, to: statusCounter(new.status))
        }
        if old?.queueKeyDiffers(from: new) ?? true {
            // Out of the queue at the priority it had, into it at the one it has. The same
            // counter (a change of zero, its row already there) unless a log creates a job
            // again with another priority, which the counters used to miss: they took the
            // new priority for both.
            if let old, isQueued(old) { changes.add(-1, to: queueCounter(old.priority)) }
            if isQueued(new) { changes.add(1, to: queueCounter(new.priority)) }
        }
        if old?.delayedKeyDiffers(from: new) ?? true {
            let (was, now) = (old.map(isDelayed) ?? false, isDelayed(new))
            if was != now { changes.add(now ? 1 : -1, to: "queue.delayed") }
        }
        if old?.leaseKeyDiffers(from: new) ?? true {
            let (was, now) = (old.map(isLeased) ?? false, isLeased(new))
            if was != now { changes.add(now ? 1 : -1, to: "leases") }
        }
    }

    /// Whether the job has a queue entry, a retry wait's or a lease's: the tests the keys
    /// below are made under, without making them.
    private static func isQueued(_ job: JobIndexFields) -> Bool {
        job.status == .pending && Keys.delayedUntil(job) == nil
    }
    private static func isDelayed(_ job: JobIndexFields) -> Bool {
        job.status == .pending && Keys.delayedUntil(job) != nil
    }
    private static func isLeased(_ job: JobIndexFields) -> Bool { Keys.leaseExpiry(job) != nil }

    /// The by-status counters' names, by status code (the names ``stats(in:)`` reads).
    private static let statusCounters = JobStatus.allCases.map { "status.\($0.rawValue)" }
    private static func statusCounter(_ status: JobStatus) -> String { statusCounters[Int(status.code)] }

    /// The queue's counters' names, by priority.
    private static let queueCounters = Priority.range.map { "queue.priority.\($0)" }
    private static func queueCounter(_ priority: Int) -> String {
        Priority.range.contains(priority)
            ? queueCounters[priority - Priority.range.lowerBound] : "queue.priority.\(priority)"
    }

    /// The job's queue entry: only a pending job with no retry wait is in the queue.
    private static func queueKey(_ job: JobIndexFields) -> [UInt8]? { isQueued(job) ? Keys.queue(job) : nil }

    /// The job's retry-wait entry: only a pending job waits out a backoff.
    private static func delayedKey(_ job: JobIndexFields) -> [UInt8]? { isDelayed(job) ? Keys.delayed(job) : nil }

    /// Replaces an index entry when its key changed.
    private func move(
        _ database: Database, from old: [UInt8]?, to new: [UInt8]?, value: [UInt8], in ltx: inout LogTransaction
    ) throws {
        guard old != new else { return }
        if let old { try ltx.delete(database, old) }
        if let new { try ltx.put(database, new, value) }
    }

    /// The job workers get next: the first entry of the queue.
    public func queueHead(in txn: some TransactionReading) throws -> UUID? {
        try txn.withCursor(queue) { cursor in try cursor.first().flatMap { Keys.uuid(from: $0.value) } }
    }

    /// Retries whose backoff is over by `now` that a claim looks at beside the queue;
    /// more are taken by the claims after.
    static let dueRetriesPerClaim = 64

    /// The job workers get next: the best of the queue's candidates and the retries whose
    /// backoff is over by `now` (`now` on the lease clock, which wrote `available_at`).
    /// Without aging the best is the first in queue order; with priority aging, the one
    /// whose priority plus one per `agingSeconds` waited (since its creation) is highest,
    /// ties going to queue order. Reads at most one entry per priority level (eleven) and
    /// ``dueRetriesPerClaim`` due retries.
    public func nextToClaim(now: Int64, agingSeconds: Int, in txn: some TransactionReading) throws -> UUID? {
        var candidates: [(key: [UInt8], id: UUID)] = []
        try txn.withCursor(queue) { cursor in
            var entry = try cursor.first()
            while let current = entry, let level = current.key.first {
                if let id = Keys.uuid(from: current.value) { candidates.append((Array(current.key), id)) }
                // Without aging the queue's first entry is its best; with it, the head of each level.
                guard agingSeconds > 0, level < 255 else { break }
                entry = try cursor.seek(atLeast: [level + 1])  // the head of the next priority down
            }
        }
        for id in try dueRetries(at: now, limit: Self.dueRetriesPerClaim, in: txn) {
            if let job = try view(id, in: txn) { candidates.append((Keys.queue(job), id)) }
        }
        guard agingSeconds > 0 else { return candidates.min { $0.key.lexicographicallyPrecedes($1.key) }?.id }
        var best: (effective: Int64, key: [UInt8], id: UUID)?
        for candidate in candidates {
            guard let job = try view(candidate.id, in: txn) else { continue }
            let waited = max(0, now - (Timestamp.parse(job.createdAt) ?? now)) / 1000
            let effective = Int64(job.priority) + waited / Int64(agingSeconds)
            let better = best.map {
                effective > $0.effective
                    || (effective == $0.effective && candidate.key.lexicographicallyPrecedes($0.key))
            }
            if better ?? true { best = (effective, candidate.key, candidate.id) }
        }
        return best?.id
    }

    /// Pending retries whose backoff is over by `now`, earliest first, at most `limit`.
    public func dueRetries(at now: Int64, limit: Int = .max, in txn: some TransactionReading) throws -> [UUID] {
        var due: [UUID] = []
        try txn.withCursor(delayed) { cursor in
            var entry = try cursor.first()
            while due.count < limit, let e = entry, e.key.count == 24,
                Int64(bitPattern: BigEndian.uint64(e.key) ?? .max) <= now
            {
                if let id = Keys.uuid(from: e.key[8..<24]) { due.append(id) }
                entry = try cursor.next()
            }
        }
        return due
    }

    /// Jobs whose lease ran out by `now` (milliseconds), earliest first.
    public func leasesDue(at now: Int64, in txn: some TransactionReading) throws -> [UUID] {
        var due: [UUID] = []
        try txn.withCursor(leases) { cursor in
            var entry = try cursor.first()
            while let e = entry, e.key.count == 24, Int64(bitPattern: BigEndian.uint64(e.key) ?? .max) <= now {
                if let id = Keys.uuid(from: e.key[8..<24]) { due.append(id) }
                entry = try cursor.next()
            }
        }
        return due
    }

    /// Jobs by total and by status; queue depth by priority; leases outstanding.
    public func counts(in txn: some TransactionReading) throws -> [String: Int64] {
        try counters.all(in: txn)
    }

    /// The totals the API, metrics and `botrix stats` show, read from the counters: the one
    /// place that knows the counters' names.
    public func stats(in txn: some TransactionReading) throws -> JobStats {
        let counts = try counts(in: txn)
        var byStatus: [JobStatus: Int64] = [:]
        for status in JobStatus.allCases { byStatus[status] = counts["status.\(status.rawValue)"] ?? 0 }
        var depth: [Int: Int64] = [:]
        for priority in Priority.range { depth[priority] = counts["queue.priority.\(priority)"] ?? 0 }
        let completed = byStatus[.completed] ?? 0
        let failed = byStatus[.failed] ?? 0
        return JobStats(
            total: counts["total"] ?? 0, byStatus: byStatus, queueDepthByPriority: depth,
            activeLeases: counts["leases"] ?? 0, retriesWaiting: counts["queue.delayed"] ?? 0,
            successRate: completed + failed == 0 ? nil : Double(completed) / Double(completed + failed))
    }
}
