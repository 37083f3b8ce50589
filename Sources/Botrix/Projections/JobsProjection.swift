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
        var changes = CounterChanges()
        try reindex(from: old.map(JobIndexFields.init), to: JobIndexFields(new), counting: &changes, in: &ltx)
        try counters.apply(changes, in: &ltx)
    }

    /// Folds a replay's page: each job's row is read once, evolved in memory through the
    /// page and written once at its end, and each counter is written once with the page's
    /// sum. Index entries change as they do event by event. In a rebuild every account
    /// event rewrites its job's row, so this saves a row decode, encode and write per event.
    /// A job already in memory is evolved where it is (no copy of the view per event); only
    /// its index fields are taken before the step, to move its index entries.
    public func apply(page: [(event: DomainEvent, position: EventPosition)], in ltx: inout LogTransaction) throws {
        // The page's jobs in the order first met, and where each is. Not a dictionary of
        // views: reading a view through `Dictionary.Values` copies it (every field retained,
        // then released), which was a fifth of this fold (`perf`).
        var slots: [UUID: Int] = [:]
        var ids: [UUID] = []
        var latest: [JobView] = []
        var changes = CounterChanges()
        // Through the buffer, not `page[i]` nor `for (event, position) in page`: both
        // copied each (event, position) pair, another fifth of this fold.
        try page.withUnsafeBufferPointer { page in
            for i in page.indices {
                guard let jobID = page[i].event.jobID else { continue }
                if let slot = slots[jobID] {
                    // What reading the job's row would give: the last view evolved here, as
                    // its row keeps it.
                    if !latest[slot].survivesRow {
                        latest[slot] = try JobView(row: latest[slot].row())
                    }
                    let old = JobIndexFields(latest[slot])
                    JobView.evolve(&latest[slot], page[i].event, page[i].position)
                    try reindex(from: old, to: JobIndexFields(latest[slot]), counting: &changes, in: &ltx)
                } else {
                    let old = try view(jobID, in: ltx.reading)
                    guard let new = JobView.evolve(old, page[i].event, page[i].position) else { continue }
                    slots[jobID] = latest.count
                    ids.append(jobID)
                    latest.append(new)
                    try reindex(
                        from: old.map(JobIndexFields.init), to: JobIndexFields(new), counting: &changes, in: &ltx)
                }
            }
        }
        for slot in latest.indices { try ltx.put(views, Keys.uuid(ids[slot]), latest[slot].row()) }
        try counters.apply(changes, in: &ltx)
    }

    /// Every index and counter change of one step of a job, from `old` (nil: it did not
    /// exist) to `new` (the same job); the view row itself is the caller's to write.
    ///
    /// Each index key is a function of a few fields (see ``Keys``). A step that changes
    /// none of an index's fields leaves its entry and counter as they are, so that index is
    /// skipped without building its keys: most steps of a replay (an account recorded, a
    /// progress report) change one index or none.
    private func reindex(
        from old: JobIndexFields?, to new: JobIndexFields, counting changes: inout CounterChanges,
        in ltx: inout LogTransaction
    ) throws {
        let id = Keys.uuid(new.id)
        if old == nil {
            try ltx.put(byCreated, BigEndian.bytes(new.createdSequence), id)
            changes.add(1, to: "total")
        }
        if old?.statusKeyDiffers(from: new) ?? true {
            try move(byStatus, from: old.map(Keys.jobStatus), to: Keys.jobStatus(new), value: id, in: &ltx)
            if old?.status != new.status {
                if let old { changes.add(-1, to: "status.\(old.status.rawValue)") }
                changes.add(1, to: "status.\(new.status.rawValue)")
            }
        }
        if old?.queueKeyDiffers(from: new) ?? true {
            let oldQueue = old.flatMap { $0.status == .pending && Keys.delayed($0) == nil ? Keys.queue($0) : nil }
            let newQueue = new.status == .pending && Keys.delayed(new) == nil ? Keys.queue(new) : nil
            try move(queue, from: oldQueue, to: newQueue, value: id, in: &ltx)
            if (oldQueue == nil) != (newQueue == nil) {
                changes.add(newQueue == nil ? -1 : 1, to: "queue.priority.\(new.priority)")
            }
        }
        if old?.delayedKeyDiffers(from: new) ?? true {
            let oldDelayed = old.flatMap { $0.status == .pending ? Keys.delayed($0) : nil }
            let newDelayed = new.status == .pending ? Keys.delayed(new) : nil
            try move(delayed, from: oldDelayed, to: newDelayed, value: [], in: &ltx)
            if (oldDelayed == nil) != (newDelayed == nil) {
                changes.add(newDelayed == nil ? -1 : 1, to: "queue.delayed")
            }
        }
        if old?.leaseKeyDiffers(from: new) ?? true {
            let oldLease = old.flatMap(Keys.lease)
            let newLease = Keys.lease(new)
            try move(leases, from: oldLease, to: newLease, value: [], in: &ltx)
            if (oldLease == nil) != (newLease == nil) { changes.add(newLease == nil ? -1 : 1, to: "leases") }
        }
    }

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
