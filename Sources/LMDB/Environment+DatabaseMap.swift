import CLMDB
public import Storage

#if canImport(Glibc)
    import Glibc
#endif

extension Environment {
    /// Opens ``DatabaseMap/tableName`` while the environment is being opened (no other
    /// transaction of this process can exist yet): created in a writable file, nil in a
    /// read-only one that lacks it.
    static func openMapTable(of env: OpaquePointer, readOnly: Bool) throws -> MDB_dbi? {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "begin opening the map")
        guard let txn else { throw LMDBError.lmdb(code: 12, operation: "begin opening the map") }
        var dbi: MDB_dbi = 0
        let code = mdb_dbi_open(txn, DatabaseMap.tableName, readOnly ? 0 : UInt32(MDB_CREATE), &dbi)
        if code == MDB_NOTFOUND && readOnly {
            mdb_txn_abort(txn)
            return nil
        }
        guard code == 0 else {
            mdb_txn_abort(txn)
            try check(code, "open \(DatabaseMap.tableName)")
            return nil
        }
        // LMDB rule: commit frees the transaction even when it fails; no abort after it.
        try check(mdb_txn_commit(txn), "commit opening \(DatabaseMap.tableName)")
        return dbi
    }

    /// ``DatabaseMap/tableName``'s handle, if this process has one.
    var mapTable: MDB_dbi? { openedMapTable ?? lateMapTable.withLock { $0 } }

    /// The map `txn`'s snapshot was taken with: the last one loaded when its version is the
    /// snapshot's and no handle was opened since, else loaded from the snapshot. Nil when
    /// a read-only process has just found the table, which `txn` began too early to read:
    /// the caller begins another transaction.
    func map(in txn: OpaquePointer) throws -> DatabaseMap? {
        guard let mapTable else {
            // A read-only open of a file no process of this version had opened: a writer of
            // this version may make the table and exchange meanwhile, so look for it each time.
            return try configuration.readOnly && findMapTable() ? nil : .identity
        }
        let version = try DatabaseMap.version(in: txn, table: mapTable)
        if version == 0 { return .identity }
        let cached = registry.withLock { $0.mapOpened == $0.byName.count ? $0.map : nil }
        if let cached, cached.version == version { return cached }
        // Only when loading: the handles opened so far.
        let opened = registry.withLock { $0.byName }
        let map = try DatabaseMap.load(in: txn, table: mapTable, version: version, opened: opened)
        registry.withLock { registry in
            // Only a newer map replaces the cached one (an old snapshot loads its own), and
            // only if no handle was opened while this one was loaded.
            if registry.byName.count == opened.count, (registry.map?.version ?? 0) <= version {
                registry.map = map
                registry.mapOpened = opened.count
            }
        }
        return map
    }

    /// Looks for ``DatabaseMap/tableName`` in a read transaction of its own, committed so that
    /// the handle serves later transactions; true when found.
    private func findMapTable() throws -> Bool {
        try lateMapTable.withLock { late in
            if late != nil { return true }
            var txn: OpaquePointer?
            try check(mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn), "begin looking for the map")
            guard let txn else { throw LMDBError.lmdb(code: 12, operation: "begin looking for the map") }
            var dbi: MDB_dbi = 0
            let code = mdb_dbi_open(txn, DatabaseMap.tableName, 0, &dbi)
            guard code == 0 else {
                mdb_txn_abort(txn)
                if code == MDB_NOTFOUND { return false }
                try check(code, "open \(DatabaseMap.tableName)")
                return false
            }
            // LMDB rule: commit frees the transaction even when it fails; no abort after it.
            try check(mdb_txn_commit(txn), "commit opening \(DatabaseMap.tableName)")
            late = dbi
            return true
        }
    }

    /// The name of the LMDB database `dbi`, which this process opened.
    func name(of dbi: MDB_dbi) -> String? {
        registry.withLock { registry in registry.byName.values.first { $0.id == dbi }?.name }
    }
}

extension LMDBWriteTransaction {
    /// Gives `a` the rows of `b` and `b` the rows of `a`, for this transaction and every
    /// later one, by recording where each name's rows are (``DatabaseMap``): a few puts,
    /// whatever the databases hold. An online rebuild fills a partner database beside the
    /// live one and exchanges them in one short transaction.
    public func exchange(_ a: Database, _ b: Database) throws {
        guard a.id != b.id else { return }
        guard let table = environment.mapTable else {
            throw LMDBError.lmdb(code: EROFS, operation: "exchange \(a.name) and \(b.name) in a read-only file")
        }
        let current = map.map
        let rowsOfA = try current.dbi(a)
        let rowsOfB = try current.dbi(b)
        guard let nameOfA = environment.name(of: rowsOfA), let nameOfB = environment.name(of: rowsOfB) else {
            throw LMDBError.lmdb(code: EINVAL, operation: "exchange \(a.name) and \(b.name): not opened here")
        }
        let version = current.version + 1
        try record(name: a, rowsIn: rowsOfB, named: nameOfB, table: table)
        try record(name: b, rowsIn: rowsOfA, named: nameOfA, table: table)
        try put(raw: table, DatabaseMap.versionKey, BigEndian.bytes(version))
        map.map = current.exchanging(a, b, version: version)
    }

    /// Records in `table` that `name`'s rows are in `rows` (no entry when that is its own).
    private func record(name: Database, rowsIn rows: MDB_dbi, named holder: String, table: MDB_dbi) throws {
        if rows == name.id {
            try withMDBValue(Array(name.name.utf8)) { keyValue in
                let code = faults.failure(at: .delete) ?? mdb_del(handle, table, &keyValue, nil)
                if code != MDB_NOTFOUND { try check(code, "record \(name.name) in \(DatabaseMap.tableName)") }
            }
        } else {
            try put(raw: table, Array(name.name.utf8), Array(holder.utf8))
        }
    }

    /// A put into an LMDB database by its own handle (no map).
    private func put(raw dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) throws {
        try withMDBValue(key) { keyValue in
            try value.withUnsafeBytes { bytes in
                var data = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                let code = faults.failure(at: .put) ?? mdb_put(handle, dbi, &keyValue, &data, 0)
                try check(code, "record in \(DatabaseMap.tableName)")
            }
        }
    }
}

extension Environment {
    /// Deletes the named databases outright (`mdb_drop` with delete): for tests that make a
    /// file as an older version left it. Handles this process holds on them become invalid.
    func dropForTests(_ names: [String]) throws {
        try writeLMDB { txn in
            for name in names {
                var dbi: MDB_dbi = 0
                let code = mdb_dbi_open(txn.handle, name, 0, &dbi)
                if code == MDB_NOTFOUND { continue }
                try check(code, "open \(name)")
                try check(mdb_drop(txn.handle, dbi, 1), "drop \(name)")
            }
        }
    }
}
