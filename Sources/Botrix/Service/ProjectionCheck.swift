import EventLog
public import Foundation
import LMDB

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
    /// Rebuilds every projection from `store`'s log into a scratch file and compares it,
    /// database by database, with the live projections as of one snapshot of the log.
    /// Reads only: safe beside a running server. Returns the differences (none: intact).
    public static func compareWithRebuild(
        store: BotrixStore, scratchFolder: String = NSTemporaryDirectory(),
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws -> [ProjectionDifference] {
        let live = try Projections(environment: store.environment)
        let path = "\(scratchFolder)/botrix-verify-\(UUID().uuidString).mdb"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + "-lock")
        }
        let scratchEnvironment = try Environment(
            .init(path: path, mapSize: max(1 << 26, store.environment.info.mapSize), durability: .nosync))
        let scratchLog = try EventLog(environment: scratchEnvironment)
        let scratch = try Projections(environment: scratchEnvironment)
        // One read transaction of the live file gives both the rows and the log to replay.
        return try store.environment.read { txn in
            let head = try store.log.head(in: txn).sequence
            try scratchEnvironment.write { scratchTxn in
                var ltx = LogTransaction(log: scratchLog, transaction: scratchTxn, now: 0)
                var replayed: UInt64 = 0
                try store.log.forEach(after: 0, in: txn) { event in
                    try scratch.apply(event, nil, in: &ltx)
                    replayed += 1
                    if replayed % 10_000 == 0 { progress(replayed, head) }
                    return true
                }
                if head > 0 { try scratch.setCheckpoint(head, in: &ltx) }
            }
            return try scratchEnvironment.read { scratchTxn in
                try zip(live.databases, scratch.databases).compactMap { pair in
                    try difference(pair.0, in: txn, pair.1, in: scratchTxn)
                }
            }
        }
    }

    private static func difference(
        _ live: Database, in liveTxn: ReadTransaction, _ fresh: Database, in freshTxn: ReadTransaction
    ) throws -> ProjectionDifference? {
        var liveRows: [([UInt8], [UInt8])] = []
        var freshRows: [([UInt8], [UInt8])] = []
        func walk(_ database: Database, _ txn: ReadTransaction, into rows: inout [([UInt8], [UInt8])]) throws {
            try txn.withCursor(database) { cursor in
                var entry = try cursor.first()
                while let e = entry {
                    rows.append((Array(e.key), Array(e.value)))
                    entry = try cursor.next()
                }
            }
        }
        try walk(live, liveTxn, into: &liveRows)
        try walk(fresh, freshTxn, into: &freshRows)
        for (index, (a, b)) in zip(liveRows, freshRows).enumerated() where a.0 != b.0 || a.1 != b.1 {
            let key = a.0 <= b.0 ? a.0 : b.0
            let detail =
                a.0 != b.0
                ? "row \(index): live has key \(JSONText.hex(a.0)), a rebuild has \(JSONText.hex(b.0))"
                : "the live value differs from a rebuild"
            return ProjectionDifference(database: live.name, key: JSONText.hex(key), detail: detail)
        }
        if liveRows.count != freshRows.count {
            let extra = liveRows.count > freshRows.count ? liveRows[freshRows.count].0 : freshRows[liveRows.count].0
            return ProjectionDifference(
                database: live.name, key: JSONText.hex(extra),
                detail: "live has \(liveRows.count) rows, a rebuild \(freshRows.count)")
        }
        return nil
    }
}

private func <= (a: [UInt8], b: [UInt8]) -> Bool { !b.lexicographicallyPrecedes(a) }
