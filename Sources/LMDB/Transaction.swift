import CLMDB
public import Storage

/// A read-only snapshot: LMDB's read transaction; see ``Environment/read(_:)``.
public struct LMDBReadTransaction: LMDBReading {
    let handle: OpaquePointer
    /// Where each database's rows are in this snapshot.
    let map: DatabaseMap

    func dbi(_ database: Database) throws -> MDB_dbi { try map.dbi(database) }
}

/// The write transaction; see ``Environment/write(_:)``.
public struct LMDBWriteTransaction: LMDBReading, WriteTransaction {
    let handle: OpaquePointer
    let faults: FaultInjector
    /// Where each database's rows are, as this transaction's exchanges left it.
    let map: WriteMap
    let environment: Environment

    func dbi(_ database: Database) throws -> MDB_dbi { try map.map.dbi(database) }
}

/// What both of LMDB's transactions share: the handle reads go through.
protocol LMDBReading: TransactionReading {
    /// The LMDB transaction; valid only inside the closure that received this value.
    var handle: OpaquePointer { get }
    /// The LMDB database that holds `database`'s rows in this transaction (see ``DatabaseMap``).
    func dbi(_ database: Database) throws -> MDB_dbi
}

extension LMDBReading {
    /// Calls `body` with the value at `key` in place (no copy), or nil when absent.
    public func withValue<R>(
        _ database: Database, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        try withMDBValue(key) { keyValue in
            var value = MDB_val()
            let code = mdb_get(handle, try dbi(database), &keyValue, &value)
            if code == MDB_NOTFOUND { return try body(nil) }
            try check(code, "get from \(database.name)")
            return try body(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
        }
    }

    /// Number of entries, from LMDB's page statistics (no scan).
    public func count(_ database: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, try dbi(database), &stat), "stat \(database.name)")
        return stat.ms_entries
    }

    /// Branch, leaf and overflow pages times the page size, from LMDB's page statistics.
    public func storedBytes(_ database: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, try dbi(database), &stat), "stat \(database.name)")
        return (stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages) * Int(stat.ms_psize)
    }

    /// Opens a cursor for the duration of `body`.
    public func withCursor<R>(_ database: Database, _ body: (any Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, try dbi(database), &cursor), "open cursor on \(database.name)")
        guard let cursor else { throw LMDBError.lmdb(code: 12, operation: "open cursor") }
        defer { mdb_cursor_close(cursor) }
        return try body(LMDBCursor(handle: cursor, database: database))
    }
}

extension LMDBWriteTransaction {
    /// Stores `value` at `key`.
    public func put(_ database: Database, _ key: [UInt8], _ value: [UInt8], options: PutOptions)
        throws
    {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in try put(database, key: key, value: value, options: options) }
        }
    }

    /// The array put, on borrowed bytes.
    private func put(
        _ database: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, options: PutOptions
    ) throws {
        try validateKey(length: key.count)
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var data = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let target = try dbi(database)
        let code = faults.failure(at: .put) ?? mdb_put(handle, target, &keyValue, &data, options.flags)
        try check(code, "put into \(database.name)")
    }

    /// Runs `body` with an appender over one write cursor on `database`
    /// (`mdb_cursor_put` with `MDB_APPEND`): the cursor stays at the tree's last leaf, so a
    /// row costs no descent from the root, which `mdb_put` makes for every row.
    public func withAppender<R>(_ database: Database, _ body: (any Appender) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, try dbi(database), &cursor), "open a cursor on \(database.name)")
        guard let cursor else { throw LMDBError.lmdb(code: 12, operation: "open a cursor on \(database.name)") }
        defer { mdb_cursor_close(cursor) }
        return try body(LMDBAppender(cursor: cursor, database: database, faults: faults))
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ database: Database, _ key: [UInt8]) throws -> Bool {
        try withMDBValue(key) { keyValue in
            let target = try dbi(database)
            let code = faults.failure(at: .delete) ?? mdb_del(handle, target, &keyValue, nil)
            if code == MDB_NOTFOUND { return false }
            try check(code, "delete from \(database.name)")
            return true
        }
    }

    /// Empties the database (keeps its handle), as a rebuild needs.
    public func clear(_ database: Database) throws {
        try check(mdb_drop(handle, try dbi(database), 0), "clear \(database.name)")
    }

    /// Removes the first `count` rows through one write cursor: each removal is a step to
    /// the tree's first leaf and a delete there.
    public func removeFirst(_ count: Int, from database: Database) throws -> Int {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, try dbi(database), &cursor), "open a cursor on \(database.name)")
        guard let cursor else { throw LMDBError.lmdb(code: 12, operation: "open a cursor on \(database.name)") }
        defer { mdb_cursor_close(cursor) }
        var removed = 0
        var key = MDB_val()
        var value = MDB_val()
        while removed < count {
            let code = mdb_cursor_get(cursor, &key, &value, MDB_FIRST)
            if code == MDB_NOTFOUND { break }
            try check(code, "read \(database.name)")
            try check(faults.failure(at: .delete) ?? mdb_cursor_del(cursor, 0), "remove from \(database.name)")
            removed += 1
        }
        return removed
    }

    /// Runs `body` in a child transaction: what it writes joins this transaction when it
    /// returns and vanishes when it throws, leaving everything else here untouched. The
    /// group-commit writer runs each command in one so a rejected command cannot disturb
    /// the rest of its batch.
    public func nested<R>(_ body: (any WriteTransaction) throws -> R) throws -> R {
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child), "begin nested transaction")
        guard let child else { throw LMDBError.lmdb(code: 12, operation: "begin nested transaction") }
        let result: R
        // A child that fails leaves the map as it found it, as it leaves the rows.
        let mapBefore = map.map
        do {
            result = try body(LMDBWriteTransaction(handle: child, faults: faults, map: map, environment: environment))
        } catch {
            mdb_txn_abort(child)  // still ours: only commit or abort ends it
            map.map = mapBefore
            throw error
        }
        // LMDB rule: `mdb_txn_commit` frees the child whether it succeeds or fails; never
        // abort it afterwards. The error is rethrown; callers treat it as a storage failure
        // and abort the parent too (the group-commit writer fails the whole batch).
        let code: Int32
        if let injected = faults.failure(at: .nestedCommit) {
            mdb_txn_abort(child)
            code = injected
        } else {
            code = mdb_txn_commit(child)
        }
        if code != 0 { map.map = mapBefore }
        try check(code, "commit nested transaction")
        return result
    }
}

func withMDBValue<R>(_ key: [UInt8], _ body: (inout MDB_val) throws -> R) throws -> R {
    try validateKey(length: key.count)
    return try key.withUnsafeBytes { bytes in
        var value = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        return try body(&value)
    }
}

/// Refuses a key LMDB cannot store (empty, or longer than ``maximumKeySize``) with an error
/// that says so, before LMDB's own MDB_BAD_VALSIZE.
func validateKey(length: Int) throws {
    guard length > 0, length <= maximumKeySize else {
        throw LMDBError.invalidKey(length: length, maximum: maximumKeySize)
    }
}

extension PutOptions {
    /// LMDB's flags for these options.
    var flags: UInt32 {
        var flags: UInt32 = 0
        if contains(.noOverwrite) { flags |= UInt32(MDB_NOOVERWRITE) }
        if contains(.append) { flags |= UInt32(MDB_APPEND) }
        return flags
    }
}

/// ``Appender`` over one LMDB write cursor; valid inside ``LMDBWriteTransaction/withAppender(_:_:)`` only.
struct LMDBAppender: Appender {
    let cursor: OpaquePointer
    let database: Database
    let faults: FaultInjector

    func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
        var data = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try put(key: key, &data, flags: MDB_APPEND)
    }

    /// `MDB_RESERVE`: LMDB makes the room in the page (or its overflow pages) and hands
    /// back where it is; the row's bytes are whatever `fill` writes there, before any other
    /// write of this transaction.
    func append(
        key: UnsafeRawBufferPointer, reserving count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) throws {
        var data = MDB_val(mv_size: count, mv_data: nil)
        try put(key: key, &data, flags: MDB_APPEND | MDB_RESERVE)
        fill(UnsafeMutableRawBufferPointer(start: data.mv_data, count: count))
    }

    /// One `mdb_cursor_put` of `key`, its key checked as the array put checks it.
    private func put(key: UnsafeRawBufferPointer, _ data: inout MDB_val, flags: Int32) throws {
        try validateKey(length: key.count)
        var keyValue = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let code = faults.failure(at: .put) ?? mdb_cursor_put(cursor, &keyValue, &data, UInt32(flags))
        try check(code, "append to \(database.name)")
    }
}
