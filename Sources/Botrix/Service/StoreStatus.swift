public import EventLog
import Foundation
public import Storage

/// A store's state in one look, read in one snapshot: what `/health`, the metrics and
/// `botrix stats` report. Projection lag is computed here and nowhere else.
public struct StoreStatus: Sendable {
    /// The last committed event.
    public var head: LogHead
    /// Events in the log.
    public var events: Int
    /// The last sequence each projection applied, by name.
    public var checkpoints: [String: UInt64]
    /// Job and account totals.
    public var jobs: JobStats
    public var accounts: AccountStats
    /// Size and use of the store.
    public var storage: StorageFigures
    /// Open readers and how far behind the oldest is.
    public var readers: ReaderReport
    /// Bytes of the data file on disk (nil when it cannot be read).
    public var fileBytes: Int?
    /// Rows in the projections' partner databases: 0 except while an online rebuild runs,
    /// or after one was interrupted (a server removes them within a minute). They hold disk.
    public var partnerRows = 0

    /// Events appended that the slowest projection has not applied yet (0 normally: events
    /// and projections commit together; a tool appending to the log alone makes lag until
    /// the next service start catches up).
    public var lag: UInt64 { head.sequence - min(head.sequence, checkpoints.values.min() ?? 0) }
}

extension BotrixStore {
    /// The store's state now. Works on a read-only store (tools beside a running server).
    public func status() throws -> StoreStatus {
        try status(projections: Projections(store: self))
    }

    /// ``status()`` with projections already open. Storage figures and readers are read
    /// after the snapshot ends (they take the map lock, which a read must not take twice).
    func status(projections: Projections) throws -> StoreStatus {
        let (head, events, checkpoints, jobs, accounts, partnerRows) = try environment.read { txn in
            (
                try log.head(in: txn), try log.count(in: txn), try projections.checkpoints(in: txn),
                try projections.jobs.stats(in: txn), try projections.accounts.stats(in: txn),
                try projections.partners.reduce(0) { $0 + (try txn.count($1)) }
            )
        }
        return StoreStatus(
            head: head, events: events, checkpoints: checkpoints, jobs: jobs, accounts: accounts,
            storage: environment.figures, readers: environment.readers(),
            fileBytes: (try? FileManager.default.attributesOfItem(atPath: environment.path)[.size] as? Int),
            partnerRows: partnerRows)
    }
}
