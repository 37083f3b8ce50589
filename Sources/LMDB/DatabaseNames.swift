import CLMDB
public import Storage

#if canImport(Glibc)
    import Glibc
#endif

extension Environment {
    /// Returns the handle of the named database, creating it when `create` is true.
    public func database(_ name: String, create: Bool) throws -> Database {
        if let known = registry.withLock({ $0.byName[name] }) { return known }
        guard name != DatabaseMap.tableName else {
            throw LMDBError.lmdb(code: EINVAL, operation: "open \(name): the name is kept for the storage layer")
        }
        let open = { (txn: OpaquePointer) throws -> Database in
            var dbi: MDB_dbi = 0
            let flags = create && !self.configuration.readOnly ? UInt32(MDB_CREATE) : 0
            let code = self.faults.failure(at: .databaseOpen) ?? mdb_dbi_open(txn, name, flags, &dbi)
            if code == MDB_NOTFOUND { throw LMDBError.missingDatabase(name: name, path: self.path) }
            try self.record(code, "open database \(name)")
            return Database(name: name, id: dbi)
        }
        let database: Database
        if configuration.readOnly {
            // A handle opened in a read transaction survives only if that transaction commits.
            database = try adoptingResizedMap {
                // LMDB forbids two opens at once in a process: this lock also serializes the
                // search for the map's table (``findMapTable()``), taken inside the map lock.
                try mapLock.withShared {
                    try lateMapTable.withLock { _ in
                        let txn = try begin(flags: UInt32(MDB_RDONLY))
                        let database: Database
                        do {
                            database = try open(txn)
                        } catch {
                            mdb_txn_abort(txn)
                            throw error
                        }
                        // LMDB rule: commit frees the transaction even when it fails; no abort after it.
                        try record(commit(txn, at: .commit), "commit database open")
                        return database
                    }
                }
            }
        } else {
            database = try writeLMDB { try open($0.handle) }
        }
        registry.withLock { $0.byName[name] = database }
        return database
    }

    /// The names of every named database in the file, in key order: LMDB keeps them as
    /// the keys of its main (unnamed) database. For tools that copy a file database by
    /// database without knowing what each one holds.
    public func databaseNames() throws -> [String] {
        try readLMDB { txn in
            var main: MDB_dbi = 0
            // The main database always exists; opening it in a read transaction creates nothing.
            try check(mdb_dbi_open(txn.handle, nil, 0, &main), "open the main database")
            return try txn.withCursor(Database(name: "(main)", id: main)) { cursor in
                var names: [String] = []
                var entry = try cursor.first()
                while let current = entry {
                    let name = String(decoding: current.key, as: UTF8.self)
                    // The storage layer's own record of exchanges (``DatabaseMap``) is not data.
                    if name != DatabaseMap.tableName { names.append(name) }
                    entry = try cursor.next()
                }
                return names
            }
        }
    }
}
