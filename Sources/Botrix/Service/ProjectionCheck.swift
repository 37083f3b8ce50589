import EventLog
public import Foundation
import JSONCoding
import Storage

/// A projection database whose live rows differ from a fresh rebuild.
public struct ProjectionDifference: Sendable, Equatable, CustomStringConvertible {
    public var database: String
    /// The first key that differs (hex), or nil when only the sizes differ.
    public var key: String?
    public var detail: String

    public var description: String {
        "projection \(database): \(detail)" + (key.map { " at key \($0)" } ?? "")
    }
}

extension Projections {
    /// Rebuilds every projection from `store`'s log into scratch files (one per projection,
    /// folded side by side: ``ScratchLanes``) and compares them, database by database, with
    /// the live projections. Reads only, in short read
    /// transactions and pages of `pageSize` rows (bounded memory): safe beside a running
    /// server, which keeps reusing pages meanwhile.
    ///
    /// Each page of live rows is read together with the head it reflects; the rebuild is
    /// brought to that head (replaying what was appended since) before the same key range
    /// of it is compared. Every page is so compared at one consistent moment; a damaged
    /// row stays damaged until an event rewrites it, so it is found. Returns the first
    /// difference of each database (none: intact).
    public static func compareWithRebuild(
        store: BotrixStore, scratchFolder: String = NSTemporaryDirectory(), pageSize: Int = 1024,
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws -> [ProjectionDifference] {
        let live = try Projections(store: store)
        // Not written through its map: the temporary folder is often memory (tmpfs), where
        // allocating the whole map ahead would hold as much memory as the live file uses.
        let scratch = try ScratchLanes(store: store, folder: scratchFolder)
        defer { scratch.remove() }
        let scratchDatabases = scratch.databases
        /// Replays the live log into the scratch projections up to `target`, page by page.
        func catchUp(to target: UInt64) throws {
            try scratch.catchUp(to: target) { progress($0, target) }
        }
        try catchUp(to: try store.log.head().sequence)

        var differences: [ProjectionDifference] = []
        precondition(scratchDatabases.map(\.database.name) == live.databases.map(\.name))
        for (liveDatabase, fresh) in zip(live.databases, scratchDatabases) {
            var after: [UInt8]? = nil
            var rowIndex = 0
            while true {
                let (head, liveRows, liveEnded) = try store.environment.read { txn in
                    let rows = try Self.rows(of: liveDatabase, after: after, limit: pageSize, in: txn)
                    return (try store.log.head(in: txn).sequence, rows.rows, rows.ended)
                }
                try catchUp(to: head)
                let upTo = liveEnded ? nil : liveRows.last?.key
                let freshRows = try fresh.lane.read { txn in
                    try Self.rows(of: fresh.database, after: after, through: upTo, in: txn)
                }
                if let difference = Self.firstDifference(
                    liveRows, freshRows, database: liveDatabase.name, rowIndex: rowIndex)
                {
                    differences.append(difference)
                    break
                }
                rowIndex += liveRows.count
                if liveEnded { break }
                after = liveRows.last?.key
            }
        }
        return differences
    }

    typealias Row = (key: [UInt8], value: [UInt8])

    /// Up to `limit` rows after `after`, and whether the database ended within them.
    private static func rows(of database: Database, after: [UInt8]?, limit: Int, in txn: any TransactionReading) throws
        -> (rows: [Row], ended: Bool)
    {
        try txn.withCursor(database) { cursor in
            var rows: [Row] = []
            var entry = try after.map { try cursor.seek(atLeast: $0) } ?? cursor.first()
            if let after, let current = entry, current.key.elementsEqual(after) { entry = try cursor.next() }
            while let current = entry, rows.count < limit {
                rows.append(current.copied)
                entry = try cursor.next()
            }
            return (rows, entry == nil)
        }
    }

    /// Every row after `after` up to and including `through` (to the end when nil).
    private static func rows(of database: Database, after: [UInt8]?, through: [UInt8]?, in txn: any TransactionReading)
        throws -> [Row]
    {
        try txn.withCursor(database) { cursor in
            var rows: [Row] = []
            var entry = try after.map { try cursor.seek(atLeast: $0) } ?? cursor.first()
            if let after, let current = entry, current.key.elementsEqual(after) { entry = try cursor.next() }
            while let current = entry {
                if let through, through.lexicographicallyPrecedes(Array(current.key)) { break }
                rows.append(current.copied)
                entry = try cursor.next()
            }
            return rows
        }
    }

    /// The first place two sorted runs of rows disagree, named for a person.
    private static func firstDifference(_ live: [Row], _ fresh: [Row], database: String, rowIndex: Int)
        -> ProjectionDifference?
    {
        for (offset, (a, b)) in zip(live, fresh).enumerated() where a.key != b.key || a.value != b.value {
            let key = a.key <= b.key ? a.key : b.key
            let detail =
                a.key != b.key
                ? "row \(rowIndex + offset): live has key \(JSONText.hex(a.key)), a rebuild has \(JSONText.hex(b.key))"
                : "the live value differs from a rebuild"
            return ProjectionDifference(database: database, key: JSONText.hex(key), detail: detail)
        }
        if live.count != fresh.count {
            let extra = live.count > fresh.count ? live[fresh.count].key : fresh[live.count].key
            return ProjectionDifference(
                database: database, key: JSONText.hex(extra),
                detail: live.count > fresh.count
                    ? "live has a row a rebuild does not" : "a rebuild has a row live does not")
        }
        return nil
    }
}

private func <= (a: [UInt8], b: [UInt8]) -> Bool { !b.lexicographicallyPrecedes(a) }
