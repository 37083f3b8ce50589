public import EventLog
import Foundation
public import Storage

/// Accounts: the views, unique email and username indexes (lowercased), by-status and
/// by-job indexes, and counters, including the next account id to assign.
public struct AccountsProjection: Projection {
    public static let name = "accounts"
    let views: Database
    let byStatus: Database
    let byJob: Database
    let emails: Database
    let usernames: Database
    let counters: Counters

    public init(environment: any StorageEngine) throws {
        views = try environment.database("accounts.views")
        byStatus = try environment.database("accounts.by_status")
        byJob = try environment.database("accounts.by_job")
        emails = try environment.database("accounts.emails")
        usernames = try environment.database("accounts.usernames")
        counters = Counters(database: try environment.database("accounts.counters"))
    }

    /// Its checkpoint sits beside its counters.
    public var checkpointDatabase: Database { counters.database }

    public var databases: [Database] { [views, byStatus, byJob, emails, usernames, counters.database] }

    /// The account, or nil (also after deletion).
    public func view(_ id: Int64, in txn: some TransactionReading) throws -> AccountView? {
        guard id > 0 else { return nil }
        return try txn.withValue(views, Keys.integer(id)) { raw in
            try raw.map { try AccountView(row: Array($0)) }
        }
    }

    /// The id the next recorded account gets.
    public func nextID(in txn: some TransactionReading) throws -> Int64 {
        max(1, try counters.value("next_id", in: txn))
    }

    /// Which live account uses a lowercased email or username.
    public func owner(of field: String, _ lowercased: String, in txn: some TransactionReading) throws -> Int64? {
        let index = field == "email" ? emails : usernames
        let key = Array(lowercased.utf8)
        guard !key.isEmpty, key.count <= maximumKeySize else { return nil }
        return try txn.get(index, key).flatMap { BigEndian.uint64($0) }.map { Int64(bitPattern: $0) }
    }

    public func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {
        var changes = CounterChanges()
        var nextID: Int64?
        try fold(event, position, counting: &changes, nextID: &nextID, in: &ltx)
        try write(changes, nextID: nextID, in: &ltx)
    }

    /// Folds a replay's page: rows and indexes change event by event, the counters (and
    /// the next id) are written once with the page's sum (and highest id).
    public func apply(page: [DecodedEvent], in ltx: inout LogTransaction) throws {
        var changes = CounterChanges()
        var nextID: Int64?
        // Each event read where it is (see ``DecodedEvent``).
        for decoded in page {
            try fold(decoded.event, decoded.position, counting: &changes, nextID: &nextID, in: &ltx)
        }
        try write(changes, nextID: nextID, in: &ltx)
    }

    /// One event's row and index changes; its counter changes go to `changes`, and a new
    /// account raises `nextID` to its id + 1.
    private func fold(
        _ event: DomainEvent, _ position: EventPosition, counting changes: inout CounterChanges, nextID: inout Int64?,
        in ltx: inout LogTransaction
    ) throws {
        guard let id = event.accountID else { return }
        let old = try view(id, in: ltx.reading)
        let new = AccountView.evolve(old, event, position)
        let key = Keys.integer(id)
        // Fields are read through `old?.` and `new?.`, never by binding or mapping a view:
        // `if let new` and `old.map { ... }` each copy the whole view (every string and the
        // account data retained, then released), which was a fifth of a replay's account
        // fold (`perf`).
        if let row = new?.row() {
            try ltx.put(views, key, row)
        } else if old != nil {
            try ltx.delete(views, key)
        }
        if old == nil, let jobID = new?.jobID {
            changes.add(1, to: "total")
            nextID = max(nextID ?? 0, id + 1)
            try ltx.put(byJob, Keys.uuid(jobID) + key, [])
        } else if let jobID = old?.jobID, new == nil {
            changes.add(-1, to: "total")
            try ltx.delete(byJob, Keys.uuid(jobID) + key)
        }
        let oldStatus = old?.status
        let newStatus = new?.status
        if oldStatus != newStatus {
            if let oldStatus {
                try ltx.delete(byStatus, [oldStatus.code] + key)
                changes.add(-1, to: "status.\(oldStatus.rawValue)")
            }
            if let newStatus {
                try ltx.put(byStatus, [newStatus.code] + key, [])
                changes.add(1, to: "status.\(newStatus.rawValue)")
            }
        }
        try reindex(
            emails, (old?.email).map(AccountRules.uniquenessKey), (new?.email).map(AccountRules.uniquenessKey), key,
            in: &ltx)
        try reindex(
            usernames, (old?.username).map(AccountRules.uniquenessKey),
            (new?.username).map(AccountRules.uniquenessKey), key, in: &ltx)
    }

    /// Writes the counters a step or a page changed, and the next id when an account was added.
    private func write(_ changes: CounterChanges, nextID: Int64?, in ltx: inout LogTransaction) throws {
        try counters.apply(changes, in: &ltx)
        if let nextID { try counters.set(max(try self.nextID(in: ltx.reading), nextID), "next_id", in: &ltx) }
    }

    private func reindex(
        _ index: Database, _ old: String?, _ new: String?, _ id: [UInt8], in ltx: inout LogTransaction
    ) throws {
        guard old != new else { return }
        if let old { try ltx.delete(index, Array(old.utf8)) }
        if let new { try ltx.put(index, Array(new.utf8), id) }
    }

    /// Accounts by total and by status.
    public func counts(in txn: some TransactionReading) throws -> [String: Int64] {
        try counters.all(in: txn).filter { $0.key != "next_id" }
    }

    /// The totals the API, metrics and `botrix stats` show, read from the counters.
    public func stats(in txn: some TransactionReading) throws -> AccountStats {
        let counts = try counts(in: txn)
        var byStatus: [AccountStatus: Int64] = [:]
        for status in AccountStatus.allCases { byStatus[status] = counts["status.\(status.rawValue)"] ?? 0 }
        return AccountStats(total: counts["total"] ?? 0, byStatus: byStatus)
    }
}
