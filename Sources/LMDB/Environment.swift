import CLMDB
import Synchronization

/// One LMDB file, opened once per process, through which every transaction runs.
///
/// Transactions are only reachable inside non-escaping closures (`read`, `write`), so a
/// transaction cannot outlive its scope or hop to another thread mid-way; that is what
/// lets Swift concurrency call in from any task (`MDB_NOTLS` frees read transactions
/// from their thread). The map grows on `MDB_MAP_FULL` through ``write(growingMap:_:)``.
public final class Environment: @unchecked Sendable {
    /// How to open the file. Every field has a default that works on a laptop.
    public struct Configuration: Sendable {
        /// The data file; LMDB keeps a `-lock` file beside it.
        public var path: String
        /// Initial map size in bytes; the file only grows as data is written.
        public var mapSize: Int
        /// The map never grows beyond this many bytes.
        public var maximumMapSize: Int
        /// How many named databases may exist.
        public var maxDatabases: Int
        /// How many read transactions may be open at once across processes.
        public var maxReaders: Int
        /// What a commit waits for; see ``Durability``.
        public var durability: Durability
        /// Open without write access (tools that only read, while a server writes).
        public var readOnly: Bool

        public init(
            path: String,
            mapSize: Int = 1 << 30,
            maximumMapSize: Int = 1 << 40,
            maxDatabases: Int = 64,
            maxReaders: Int = 510,
            durability: Durability = .full,
            readOnly: Bool = false
        ) {
            self.path = path
            self.mapSize = mapSize
            self.maximumMapSize = max(maximumMapSize, mapSize)
            self.maxDatabases = maxDatabases
            self.maxReaders = maxReaders
            self.durability = durability
            self.readOnly = readOnly
        }
    }

    /// The canonical path of the data file.
    public let path: String
    /// What this environment was opened with.
    public let configuration: Configuration
    let handle: OpaquePointer
    private let mapLock = ReadWriteLock()
    private let databases = Mutex<[String: Database]>([:])

    /// Opens (creating if needed) the file at `configuration.path`.
    /// - Throws: ``LMDBError/alreadyOpen(path:)`` when this process already has it open.
    public init(_ configuration: Configuration) throws {
        let canonical = try OpenFiles.register(configuration.path)
        var env: OpaquePointer?
        do {
            try check(mdb_env_create(&env), "mdb_env_create")
            guard let env else { throw LMDBError.lmdb(code: 12, operation: "mdb_env_create") }
            do {
                try check(mdb_env_set_maxdbs(env, MDB_dbi(configuration.maxDatabases)), "set max databases")
                try check(mdb_env_set_maxreaders(env, UInt32(configuration.maxReaders)), "set max readers")
                try check(mdb_env_set_mapsize(env, configuration.mapSize), "set map size")
                var flags = UInt32(MDB_NOSUBDIR | MDB_NOTLS) | configuration.durability.flags
                if configuration.readOnly { flags |= UInt32(MDB_RDONLY) }
                try check(mdb_env_open(env, canonical, flags, 0o644), "open \(canonical)")
            } catch {
                mdb_env_close(env)
                throw error
            }
            self.handle = env
        } catch {
            OpenFiles.unregister(canonical)
            throw error
        }
        self.path = canonical
        self.configuration = configuration
    }

    deinit {
        mdb_env_close(handle)
        OpenFiles.unregister(path)
    }

    /// Runs `body` in a read-only snapshot; readers never block the writer or each other.
    /// Do not call `read` or `write` from inside `body`.
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        try adoptingResizedMap {
            try mapLock.withShared {
                let txn = try begin(flags: UInt32(MDB_RDONLY))
                defer { mdb_txn_abort(txn) }
                return try body(ReadTransaction(handle: txn))
            }
        }
    }

    /// Runs `body` in the single write transaction and commits when it returns.
    /// Anything `body` throws aborts the transaction: nothing it wrote remains.
    public func write<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        try adoptingResizedMap {
            try mapLock.withShared {
                let txn = try begin(flags: 0)
                do {
                    let result = try body(WriteTransaction(handle: txn))
                    try check(mdb_txn_commit(txn), "commit")
                    return result
                } catch {
                    mdb_txn_abort(txn)
                    throw error
                }
            }
        }
    }

    /// Like ``write(_:)``, but when the map fills it aborts, grows the map and runs `body`
    /// again (up to `attempts` times). `body` must therefore be safe to run twice.
    public func write<R>(growingMap attempts: Int, _ body: (WriteTransaction) throws -> R) throws -> R {
        var remaining = attempts
        while true {
            do {
                return try write(body)
            } catch let error as LMDBError where error.isMapFull && remaining > 0 {
                remaining -= 1
                try growMap()
            }
        }
    }

    /// Doubles the map, up to ``Configuration/maximumMapSize``. Waits for open
    /// transactions of this process to end first, as LMDB requires.
    public func growMap() throws {
        try mapLock.withExclusive { () in
            let current = info.mapSize
            let maximum = configuration.maximumMapSize
            guard current < maximum else { throw LMDBError.mapSizeLimit(current: current, maximum: maximum) }
            try check(mdb_env_set_mapsize(handle, min(current * 2, maximum)), "grow map")
        }
    }

    /// Returns the handle of the named database, creating it when `create` is true.
    public func database(_ name: String, create: Bool = true) throws -> Database {
        if let known = databases.withLock({ $0[name] }) { return known }
        let open = { (txn: OpaquePointer) throws -> Database in
            var dbi: MDB_dbi = 0
            let flags = create && !self.configuration.readOnly ? UInt32(MDB_CREATE) : 0
            try check(mdb_dbi_open(txn, name, flags, &dbi), "open database \(name)")
            return Database(name: name, dbi: dbi)
        }
        let database: Database
        if configuration.readOnly {
            // A handle opened in a read transaction survives only if that transaction commits.
            database = try adoptingResizedMap {
                try mapLock.withShared {
                    let txn = try begin(flags: UInt32(MDB_RDONLY))
                    do {
                        let database = try open(txn)
                        try check(mdb_txn_commit(txn), "commit database open")
                        return database
                    } catch {
                        mdb_txn_abort(txn)
                        throw error
                    }
                }
            }
        } else {
            database = try write { try open($0.handle) }
        }
        databases.withLock { $0[name] = database }
        return database
    }

    /// Size and use of the map, for `botrix stats` and for deciding when to grow.
    public var info: Info {
        var envInfo = MDB_envinfo()
        mdb_env_info(handle, &envInfo)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        return Info(
            mapSize: envInfo.me_mapsize,
            pageSize: Int(stat.ms_psize),
            lastPageNumber: envInfo.me_last_pgno,
            lastTransactionID: envInfo.me_last_txnid,
            maxReaders: Int(envInfo.me_maxreaders),
            readersInUse: Int(envInfo.me_numreaders)
        )
    }

    /// Map figures as LMDB reports them.
    public struct Info: Sendable {
        public var mapSize: Int
        public var pageSize: Int
        public var lastPageNumber: Int
        public var lastTransactionID: Int
        public var maxReaders: Int
        public var readersInUse: Int
        /// Bytes of the map in use (pages up to the last one written).
        public var usedBytes: Int { (lastPageNumber + 1) * pageSize }
    }

    /// Writes a consistent copy of the environment to `destination` while others keep
    /// reading and writing; `compact` omits free pages (LMDB's `mdb_env_copy2`).
    public func copy(to destination: String, compact: Bool = true) throws {
        try check(
            mdb_env_copy2(handle, destination, compact ? UInt32(MDB_CP_COMPACT) : 0),
            "copy to \(destination)")
    }

    /// Flushes buffers to disk; needed only with `nosync` / `nometasync` durability.
    public func sync() throws {
        try check(mdb_env_sync(handle, 1), "sync")
    }

    /// Another process may grow the map; LMDB then refuses new transactions here until
    /// this process adopts the new size, which needs every transaction of ours closed.
    private func adoptingResizedMap<R>(_ body: () throws -> R) throws -> R {
        while true {
            do {
                return try body()
            } catch let error as LMDBError where error.isMapResized {
                try mapLock.withExclusive { () in
                    try check(mdb_env_set_mapsize(handle, 0), "adopt resized map")
                }
            }
        }
    }

    private func begin(flags: UInt32) throws -> OpaquePointer {
        var txn: OpaquePointer?
        try check(
            mdb_txn_begin(handle, nil, flags, &txn),
            flags & UInt32(MDB_RDONLY) != 0 ? "begin read transaction" : "begin write transaction")
        guard let txn else { throw LMDBError.lmdb(code: 12, operation: "begin transaction") }
        return txn
    }
}
