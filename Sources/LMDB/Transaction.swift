import CLMDB

/// Reads shared by read-only and write transactions. Values handed to closures point
/// into the memory map and are valid only inside the closure; copy what you keep.
public protocol TransactionReading {
    /// The LMDB transaction; valid only inside the closure that received this value.
    var handle: OpaquePointer { get }
}

/// A read-only snapshot; see ``Environment/read(_:)``.
public struct ReadTransaction: TransactionReading {
    public let handle: OpaquePointer
}

/// The write transaction; see ``Environment/write(_:)``.
public struct WriteTransaction: TransactionReading {
    public let handle: OpaquePointer
    let faults: FaultInjector

    /// The same transaction with only its reads exposed, for code that must not write.
    public var reading: ReadTransaction { ReadTransaction(handle: handle) }
}

/// The largest key LMDB accepts with its default build.
public let maximumKeySize = 511

extension TransactionReading {
    /// A copy of the value at `key`, or nil.
    public func get(_ database: Database, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(database, key) { $0.map { Array($0) } }
    }

    /// Calls `body` with the value at `key` in place (no copy), or nil when absent.
    public func withValue<R>(
        _ database: Database, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        try withMDBValue(key) { keyValue in
            var value = MDB_val()
            let code = mdb_get(handle, database.dbi, &keyValue, &value)
            if code == MDB_NOTFOUND { return try body(nil) }
            try check(code, "get from \(database.name)")
            return try body(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
        }
    }

    /// Number of entries, from LMDB's page statistics (no scan).
    public func count(_ database: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, database.dbi, &stat), "stat \(database.name)")
        return stat.ms_entries
    }

    /// Opens a cursor for the duration of `body`.
    public func withCursor<R>(_ database: Database, _ body: (Cursor) throws -> R) throws -> R {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, database.dbi, &cursor), "open cursor on \(database.name)")
        guard let cursor else { throw LMDBError.lmdb(code: 12, operation: "open cursor") }
        defer { mdb_cursor_close(cursor) }
        return try body(Cursor(handle: cursor, database: database))
    }
}

extension WriteTransaction {
    /// How a put treats an existing key.
    public struct PutOptions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Fail with `MDB_KEYEXIST` instead of replacing.
        public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
        /// The key sorts after every existing key: LMDB skips the search and fills pages fully.
        public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
    }

    /// Stores `value` at `key`.
    public func put(_ database: Database, _ key: [UInt8], _ value: [UInt8], options: PutOptions = [])
        throws
    {
        try withMDBValue(key) { keyValue in
            try value.withUnsafeBytes { bytes in
                var data = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                let code =
                    faults.failure(at: .put) ?? mdb_put(handle, database.dbi, &keyValue, &data, options.rawValue)
                try check(code, "put into \(database.name)")
            }
        }
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ database: Database, _ key: [UInt8]) throws -> Bool {
        try withMDBValue(key) { keyValue in
            let code = faults.failure(at: .delete) ?? mdb_del(handle, database.dbi, &keyValue, nil)
            if code == MDB_NOTFOUND { return false }
            try check(code, "delete from \(database.name)")
            return true
        }
    }

    /// Empties the database (keeps its handle), as a rebuild needs.
    public func clear(_ database: Database) throws {
        try check(mdb_drop(handle, database.dbi, 0), "clear \(database.name)")
    }

    /// Runs `body` in a child transaction: what it writes joins this transaction when it
    /// returns and vanishes when it throws, leaving everything else here untouched. The
    /// group-commit writer runs each command in one so a rejected command cannot disturb
    /// the rest of its batch.
    public func nested<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child), "begin nested transaction")
        guard let child else { throw LMDBError.lmdb(code: 12, operation: "begin nested transaction") }
        let result: R
        do {
            result = try body(WriteTransaction(handle: child, faults: faults))
        } catch {
            mdb_txn_abort(child)  // still ours: only commit or abort ends it
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
        try check(code, "commit nested transaction")
        return result
    }
}

func withMDBValue<R>(_ key: [UInt8], _ body: (inout MDB_val) throws -> R) throws -> R {
    guard !key.isEmpty, key.count <= maximumKeySize else {
        throw LMDBError.invalidKey(length: key.count, maximum: maximumKeySize)
    }
    return try key.withUnsafeBytes { bytes in
        var value = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        return try body(&value)
    }
}
