import EventLog
public import Foundation
import Storage

/// A page of a list, with the totals the API shows.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var page: Int
    public var limit: Int
    public var total: Int
    public var pages: Int { total == 0 ? 0 : (total + limit - 1) / limit }
    /// The cursor of the next page (pass it as `after`); nil on the last page.
    public var next: UInt64?
    /// Index entries the read examined (bounded by the skip limit plus the page).
    public var examined = 0
    /// True when `total` only counts the matches within the entries a filter may examine
    /// (there may be more).
    public var totalIsLowerBound = false
}

/// How deep `page` may go: `(page - 1) * limit` entries are walked to skip them, so deeper
/// pages must use the `after` cursor, which seeks instead.
public let maximumSkip = 10_000

/// Job totals for `GET /api/jobs/stats`.
public struct JobStats: Sendable, Equatable {
    public var total: Int64
    public var byStatus: [JobStatus: Int64]
    public var queueDepthByPriority: [Int: Int64]
    public var activeLeases: Int64
    /// Pending jobs failed with retry that wait out their backoff (not in the queue depth).
    public var retriesWaiting: Int64 = 0
    /// Completed over finished-and-not-cancelled; nil before any job finished.
    public var successRate: Double?
}

/// Account totals for `GET /api/accounts/stats`.
public struct AccountStats: Sendable, Equatable {
    public var total: Int64
    public var byStatus: [AccountStatus: Int64]
}

/// The read path: every read the API serves, from read-only transactions over projections.
extension BotrixService {
    /// The job, its lease end as renewed (in memory or in the log).
    public func job(_ id: UUID) throws -> JobView? {
        try store.environment.read { try projections.jobs.view(id, in: $0) }.map(leases.overlay)
    }

    public func account(_ id: Int64) throws -> AccountView? {
        try store.environment.read { try projections.accounts.view(id, in: $0) }
    }

    /// Jobs, newest first, optionally of one status. Either `page` (from 1; at most
    /// ``maximumSkip`` entries skipped) or `after`, the `next` cursor of the previous page.
    /// `skipLimit` is how many entries a page may pass over (``maximumSkip``; tests lower it).
    public func jobs(
        page: Int = 1, limit: Int, status: JobStatus? = nil, after: UInt64? = nil, skipLimit: Int = maximumSkip
    ) throws -> Page<JobView> {
        let jobs = projections.jobs
        let skip = after == nil ? try Self.skip(page: page, limit: limit, skipLimit: skipLimit) : 0
        return try store.environment.read { txn in
            let counts = try jobs.counts(in: txn)
            let total = Int(counts[status.map { "status.\($0.rawValue)" } ?? "total"] ?? 0)
            let index = status == nil ? jobs.byCreated : jobs.byStatus
            let prefix = status.map { [$0.code] } ?? []
            var scan = IndexScan(database: index, prefix: prefix, before: after, skipLimit: skipLimit)
            let (items, next) = try scan.newestFirst(skip: skip, take: limit, in: txn) { _, value in
                try Keys.uuid(from: value).flatMap { try jobs.view($0, in: txn) }
            }
            return Page(
                items: items.map(leases.overlay), page: page, limit: limit, total: total, next: next,
                examined: scan.examined)
        }
    }

    /// Accounts, newest first, optionally of one status and/or one job; `page` or `after`
    /// as for ``jobs(page:limit:status:after:)``. With a job and a status, accounts of the job
    /// are filtered while scanning, and `total` counts at most ``maximumSkip`` of them.
    public func accounts(
        page: Int = 1, limit: Int, status: AccountStatus? = nil, jobID: UUID? = nil, after: UInt64? = nil,
        skipLimit: Int = maximumSkip
    ) throws -> Page<AccountView> {
        try accountPage(page: page, limit: limit, status: status, jobID: jobID, after: after, skipLimit: skipLimit) {
            row, status in
            let account = try AccountView(row: Array(row))
            return status == nil || account.status == status ? account : nil
        }
    }

    /// The page ``accounts(page:limit:status:jobID:after:skipLimit:)`` reads, each account
    /// already in the API's JSON (`AccountView.json()`), written straight from its row: what
    /// `GET /api/accounts` serves, without building the views first.
    public func accountsJSON(
        page: Int = 1, limit: Int, status: AccountStatus? = nil, jobID: UUID? = nil, after: UInt64? = nil,
        skipLimit: Int = maximumSkip
    ) throws -> Page<[UInt8]> {
        try accountPage(page: page, limit: limit, status: status, jobID: jobID, after: after, skipLimit: skipLimit) {
            try AccountRowJSON.render($0, status: $1)
        }
    }

    /// ``accountsJSON(page:limit:status:jobID:after:skipLimit:)`` without a job, if the read
    /// is bounded: nil for a page that walks entries to skip them (`page` > 1 without
    /// `after`), and nil as soon as its stored rows or its rendered accounts would pass
    /// `bytes`, or the `account_data` it must parse (not in the writer's form) `bytes / 64`
    /// (a row is measured before it is rendered, its answer after: escapes can make it six
    /// times its size). A caller on Swift's cooperative pool serves small pages in place this
    /// way and sends the others to threads of their own, so a page's work in place is bounded
    /// by entries and bytes. (A job's pages count its accounts first: never bounded.)
    public func accountsJSON(
        page: Int = 1, limit: Int, status: AccountStatus? = nil, after: UInt64? = nil, within bytes: Int
    ) throws -> Page<[UInt8]>? {
        guard page == 1 || after != nil else { return nil }
        struct OverBudget: Error {}
        var stored = bytes
        var rendered = bytes
        // `account_data` not in the writer's form is parsed, at some 60 times the cost of a
        // copy per byte (a double, non-ASCII text): it gets a sixty-fourth of the bound.
        var parsed = bytes / 64
        do {
            return try accountPage(
                page: page, limit: limit, status: status, jobID: nil, after: after, skipLimit: maximumSkip
            ) { row, status in
                stored -= row.count
                guard stored >= 0 else { throw OverBudget() }
                let json = try AccountRowJSON.render(row, status: status, parseBudget: &parsed)
                rendered -= json?.count ?? 0
                guard rendered >= 0 else { throw OverBudget() }
                return json
            }
        } catch is OverBudget {
            return nil
        } catch is AccountRowJSON.TooCostly {
            return nil
        }
    }

    /// A page of accounts, each made by `item` from its row (nil: not of the status asked for).
    private func accountPage<Item: Sendable>(
        page: Int, limit: Int, status: AccountStatus?, jobID: UUID?, after: UInt64?, skipLimit: Int,
        item: (UnsafeRawBufferPointer, AccountStatus?) throws -> Item?
    ) throws -> Page<Item> {
        let accounts = projections.accounts
        let skip = after == nil ? try Self.skip(page: page, limit: limit, skipLimit: skipLimit) : 0
        return try store.environment.read { txn in
            let index: Database
            let prefix: [UInt8]
            let total: Int
            if let jobID {
                index = accounts.byJob
                prefix = Keys.uuid(jobID)
                var counting = IndexScan(database: index, prefix: prefix, before: nil, skipLimit: 0)
                total = try counting.newestFirst(skip: 0, take: skipLimit, in: txn) { key, _ -> Bool? in
                    guard let status else { return true }
                    let id = BigEndian.uint64(key, at: 16).map { Int64(bitPattern: $0) }
                    guard let id, try accounts.view(id, in: txn)?.status == status else { return nil }
                    return true
                }.items.count
            } else {
                let counts = try accounts.counts(in: txn)
                total = Int(counts[status.map { "status.\($0.rawValue)" } ?? "total"] ?? 0)
                index = status == nil ? accounts.views : accounts.byStatus
                prefix = status.map { [$0.code] } ?? []
            }
            var scan = IndexScan(database: index, prefix: prefix, before: after, skipLimit: skipLimit)
            let filtered = jobID != nil && status != nil
            let (items, next) = try scan.newestFirst(skip: skip, take: limit, filtered: filtered, in: txn) {
                key, value -> Item? in
                // The views themselves are walked when no index narrows the list: the entry is the row.
                if index == accounts.views { return try value.withUnsafeBytes { try item($0, status) } }
                guard let id = BigEndian.uint64(key, at: prefix.count).map({ Int64(bitPattern: $0) }), id > 0 else {
                    return nil
                }
                return try txn.withValue(accounts.views, Keys.integer(id)) { row in
                    try row.flatMap { try item($0, status) }
                }
            }
            return Page(items: items, page: page, limit: limit, total: total, next: next, examined: scan.examined)
        }
    }

    static func skip(page: Int, limit: Int, skipLimit: Int) throws -> Int {
        let skip = (page - 1) * limit
        guard skip <= skipLimit else {
            throw DomainError.validation([
                FieldError(
                    "page",
                    "goes deeper than \(skipLimit) entries: follow the `next` cursor with ?after= instead")
            ])
        }
        return skip
    }

    /// Seconds the oldest pending job has waited (by its creation), 0 when none waits.
    public func oldestPendingAge() throws -> Double {
        let jobs = projections.jobs
        let now = writer.currentTime()
        return try store.environment.read { txn in
            try txn.withCursor(jobs.byStatus) { cursor in
                guard let entry = try cursor.seek(atLeast: [JobStatus.pending.code]),
                    entry.key.first == JobStatus.pending.code, let id = Keys.uuid(from: entry.value),
                    let job = try jobs.view(id, in: txn), let created = Timestamp.parse(job.createdAt)
                else { return 0 }
                return Double(max(0, now - created)) / 1000
            }
        }
    }

    /// Pending jobs in the order workers will get them.
    /// The queue in order, then the retries waiting out their backoff (earliest first,
    /// each with its `available_at`): at most `limit` jobs in all.
    public func queue(limit: Int = 100) throws -> [JobView] {
        let jobs = projections.jobs
        return try store.environment.read { txn in
            var out: [JobView] = []
            try txn.withCursor(jobs.queue) { cursor in
                var entry = try cursor.first()
                while let e = entry, out.count < limit {
                    if let id = Keys.uuid(from: e.value), let job = try jobs.view(id, in: txn) { out.append(job) }
                    entry = try cursor.next()
                }
            }
            for id in try jobs.dueRetries(at: .max, limit: limit - out.count, in: txn) {
                if let job = try jobs.view(id, in: txn) { out.append(job) }
            }
            return out
        }
    }

    /// Job totals, from the projection's counters (no scan).
    public func jobStats() throws -> JobStats {
        try store.environment.read { try projections.jobs.stats(in: $0) }
    }

    /// Account totals, from the projection's counters (no scan).
    public func accountStats() throws -> AccountStats {
        try store.environment.read { try projections.accounts.stats(in: $0) }
    }

    /// The store's state (head, lag, storage, readers, totals); see ``BotrixStore/status()``.
    public func status() throws -> StoreStatus { try store.status(projections: projections) }
}

/// Walks an index backwards (newest first) within a key prefix.
/// A newest-first walk of one index (keys: `prefix` then an 8-byte big-endian number),
/// counting the entries it examines. `before` starts it strictly below that number.
struct IndexScan {
    let database: Database
    let prefix: [UInt8]
    let before: UInt64?
    /// Entries it may pass over (skipped or filtered out) beside the ones it takes.
    let skipLimit: Int
    private(set) var examined = 0

    init(database: Database, prefix: [UInt8], before: UInt64?, skipLimit: Int) {
        self.database = database
        self.prefix = prefix
        self.before = before
        self.skipLimit = skipLimit
    }

    /// Skips `skip` matching entries, then collects what `match` makes of entries (nil: the
    /// entry does not match) until `take` matched. A filter that rejects entries cannot make
    /// it run past `skipLimit` + `take` entries. Unless `filtered`, every entry matches,
    /// so skipped ones are passed over without calling `match` (no record is loaded). Also returns the cursor of the next page
    /// (pass it as `before`) when more entries may follow, else nil.
    mutating func newestFirst<T>(
        skip: Int, take: Int, filtered: Bool = false, in txn: some TransactionReading,
        _ match: (_ key: [UInt8], _ value: [UInt8]) throws -> T?
    ) throws -> (items: [T], next: UInt64?) {
        guard take > 0 else { return ([], nil) }
        let budget = skipLimit + take
        var examined = 0
        var items: [T] = []
        let next = try txn.withCursor(database) { cursor -> UInt64? in
            var entry: CursorEntry?
            if let before {
                guard before > 0 else { return nil }
                entry = try cursor.seek(atMost: prefix + BigEndian.bytes(before - 1))
            } else {
                entry =
                    prefix.isEmpty
                    ? try cursor.last() : try cursor.seek(atMost: prefix + [UInt8](repeating: 0xFF, count: 24))
            }
            var skipped = 0
            var lastTaken: UInt64?
            while let e = entry, e.key.starts(with: prefix) {
                let number = BigEndian.uint64(e.key, at: prefix.count) ?? 0
                // Stopped with entries left: the next page starts below the last one taken
                // (or, when the budget ran out first, at this entry).
                guard items.count < take, examined < budget else { return lastTaken ?? number &+ 1 }
                examined += 1
                if !filtered && skipped < skip {
                    skipped += 1
                } else if let item = try match(Array(e.key), Array(e.value)) {
                    if skipped < skip {
                        skipped += 1
                    } else {
                        items.append(item)
                        lastTaken = number
                    }
                }
                entry = try cursor.previous()
            }
            return nil
        }
        self.examined = examined
        return (items, next)
    }
}
