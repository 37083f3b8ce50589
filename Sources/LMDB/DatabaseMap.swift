import CLMDB
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// Which LMDB database holds the rows of each named database, as one snapshot of the file
/// sees it: what makes ``LMDBWriteTransaction/exchange(_:_:)`` cost the same whatever the
/// databases hold.
///
/// A ``Database`` handle names a database; its rows live in the LMDB database of the same
/// name until an exchange gives two names each other's rows. The file records every name
/// whose rows live elsewhere in an internal database (``tableName``), with a version that
/// each exchange raises. Every transaction reads that version when it begins (one lookup)
/// and reloads the map only when it changed: an exchange committed by another process (a
/// `botrix rebuild` beside the server) is seen by the next transaction of this one, and a
/// snapshot older than the exchange keeps the map it was taken with.
final class DatabaseMap: Sendable {
    /// The internal database that records the exchanges. `databaseNames()` leaves it out:
    /// a copy database by database starts with every name holding its own rows.
    static let tableName = "storage.map"
    /// The key of the version in ``tableName``; the names sort after it.
    static let versionKey: [UInt8] = [0]

    /// Raised by every exchange; 0 for a file with none.
    let version: UInt64
    /// For each handle (by its `id`), the LMDB database that holds its rows; empty when
    /// every name holds its own rows.
    private let physical: [MDB_dbi]

    init(version: UInt64, physical: [MDB_dbi]) {
        self.version = version
        self.physical = physical
    }

    /// The map of a file with no exchange recorded.
    static let identity = DatabaseMap(version: 0, physical: [])

    /// Stands for rows recorded in a database this process has not opened.
    static let unreachable = MDB_dbi.max

    /// The LMDB database that holds `database`'s rows.
    /// - Throws: when they are in a database this process has not opened (no Botrix process:
    ///   the projections open every database with its partner).
    @inline(__always)
    func dbi(_ database: Database) throws -> MDB_dbi {
        let index = Int(database.id)
        guard index < physical.count else { return database.id }
        let dbi = physical[index]
        if dbi == Self.unreachable {
            throw LMDBError.lmdb(
                code: EINVAL,
                operation: "reach \(database.name): an exchange put its rows in a database this process has not opened")
        }
        return dbi
    }

    /// This map with the rows of `a` and `b` exchanged, at `version`.
    func exchanging(_ a: Database, _ b: Database, version: UInt64) -> DatabaseMap {
        var table = physical
        let needed = Int(max(a.id, b.id)) + 1
        if table.count < needed { table += (table.count..<needed).map { MDB_dbi($0) } }
        table.swapAt(Int(a.id), Int(b.id))
        return DatabaseMap(version: version, physical: table)
    }

    /// Reads the version recorded in `table` (0 when there is none, or no table).
    static func version(in txn: OpaquePointer, table: MDB_dbi?) throws -> UInt64 {
        guard let table else { return 0 }
        var key = MDB_val(mv_size: 1, mv_data: UnsafeMutableRawPointer(mutating: zeroByte))
        var value = MDB_val()
        let code = mdb_get(txn, table, &key, &value)
        if code == MDB_NOTFOUND { return 0 }
        try check(code, "read the version of \(tableName)")
        guard value.mv_size == 8, let bytes = value.mv_data else {
            throw LMDBError.lmdb(code: MDB_CORRUPTED, operation: "read the version of \(tableName)")
        }
        return BigEndian.uint64(UnsafeRawBufferPointer(start: bytes, count: 8)) ?? 0
    }

    /// Loads the map recorded in `table` as `txn` sees it. `opened` gives the handle of each
    /// name this process has opened: a recorded name it has not opened is of no use to it
    /// (nothing here can ask for its rows); rows recorded in a database it has not opened
    /// cannot be reached (``unreachable``): using that name fails, the rest works.
    static func load(
        in txn: OpaquePointer, table: MDB_dbi, version: UInt64, opened: [String: Database]
    ) throws -> DatabaseMap {
        guard version > 0 else { return identity }
        // LMDB numbers named databases after its two own (0 and 1): up to maxDatabases + 1.
        var physical = (0..<Environment.maxDatabases + 2).map { MDB_dbi($0) }
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, table, &cursor), "open a cursor on \(tableName)")
        guard let cursor else { throw LMDBError.lmdb(code: 12, operation: "open a cursor on \(tableName)") }
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val()
        var value = MDB_val()
        var code = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
        while code == 0 {
            let name = String(decoding: UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size), as: UTF8.self)
            let holder = String(
                decoding: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size), as: UTF8.self)
            if key.mv_size > 0, key.mv_data.load(as: UInt8.self) != 0, let logical = opened[name] {
                physical[Int(logical.id)] = opened[holder]?.id ?? unreachable
            }
            code = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
        }
        if code != MDB_NOTFOUND { try check(code, "read \(tableName)") }
        return DatabaseMap(version: version, physical: physical)
    }
}

/// The one byte of ``DatabaseMap/versionKey``, at a stable address for `MDB_val`.
private nonisolated(unsafe) let zeroByte: UnsafeMutablePointer<UInt8> = {
    let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    byte.initialize(to: 0)
    return byte
}()

/// The map a write transaction works with: an exchange changes it for the rest of the
/// transaction, and a child transaction that fails puts back the map it began with.
final class WriteMap {
    var map: DatabaseMap
    init(_ map: DatabaseMap) { self.map = map }
}
