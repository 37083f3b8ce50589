import CLMDB
public import Storage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One LMDB file, opened once per process, through which every transaction runs.
///
/// Transactions are only reachable inside non-escaping closures (`read`, `write`), so a
/// transaction cannot outlive its scope or hop to another thread mid-way; that is what
/// lets Swift concurrency call in from any task (`MDB_NOTLS` frees read transactions
/// from their thread). The map grows on `MDB_MAP_FULL` through ``write(makingRoom:_:)``.
/// This is the LMDB backend of the storage seam (``StorageEngine``).
public final class Environment: StorageEngine, @unchecked Sendable {
    /// How to open the file; see ``StorageOptions``.
    public typealias Configuration = StorageOptions

    /// How many named databases a file may hold.
    static let maxDatabases = 64

    /// The canonical path of the data file.
    public let path: String
    /// What this environment was opened with.
    public let configuration: Configuration
    /// The same, as the storage seam names it.
    public var options: StorageOptions { configuration }
    let handle: OpaquePointer
    /// Injected failures for tests; see ``FaultInjector``.
    public let faults = FaultInjector()
    /// Set once LMDB reported `MDB_PANIC` (or a map written through could be neither
    /// allocated nor shrunk back): the environment refuses every write until the process
    /// restarts (LMDB's own rule after a failed meta-page write).
    let fatal = Mutex<LMDBError?>(nil)
    let mapLock = ReadWriteLock()
    /// Serializes writes against reads of a store without LMDB's lock file; see ``ownUse(writing:_:)``.
    private let useLock = ReadWriteLock()
    /// Set by ``finishWriting()``: write transactions are refused from then on.
    let writingFinished = Atomic<Bool>(false)
    let sightings = ReaderSightings()
    /// The last page number at the last growth-triggered reader check.
    let lastReaderCheckPage = Atomic<Int>(0)
    /// The handles opened so far, by name, and the ``DatabaseMap`` last loaded (with how
    /// many handles were open then: a handle opened later may be named in the map).
    let registry = Mutex<Registry>(Registry())
    /// ``DatabaseMap/tableName``'s handle as the open found it: nil in a read-only open of a
    /// file no process of this version had opened yet (see ``lateMapTable``).
    let openedMapTable: MDB_dbi?
    /// The same table found later by such a read-only process, once a writer of this
    /// version made it (and may have exchanged databases since).
    let lateMapTable = Mutex<MDB_dbi?>(nil)

    struct Registry {
        var byName: [String: Database] = [:]
        var map: DatabaseMap?
        var mapOpened = 0
    }

    /// Opens (creating if needed) the file at `configuration.path`.
    /// - Throws: ``LMDBError/alreadyOpen(path:)`` when this process already has it open.
    public init(_ configuration: Configuration) throws {
        let canonical = try OpenFiles.register(configuration.path)
        var env: OpaquePointer?
        do {
            try check(mdb_env_create(&env), "mdb_env_create")
            guard let env else { throw LMDBError.lmdb(code: 12, operation: "mdb_env_create") }
            do {
                try check(mdb_env_set_maxdbs(env, MDB_dbi(Self.maxDatabases)), "set max databases")
                try check(mdb_env_set_maxreaders(env, UInt32(configuration.maxReaders)), "set max readers")
                try check(mdb_env_set_mapsize(env, configuration.mapSize), "set map size")
                var flags = UInt32(MDB_NOSUBDIR | MDB_NOTLS) | configuration.durability.flags
                if configuration.readOnly { flags |= UInt32(MDB_RDONLY) }
                if configuration.singleProcess { flags |= UInt32(MDB_NOLOCK) }
                let throughMap = configuration.writesThroughMap && !configuration.readOnly
                if throughMap {
                    try Self.checkReservesAhead(folderOf: canonical)
                    // No read-ahead: every page of a map written through is first touched by a
                    // store, and ext4 answers each fault on its allocated-but-unwritten blocks by
                    // zeroing a whole read-ahead window (`perf`: 18% of a rebuild's account
                    // fold in the kernel's memset; without it the rebuild took 7% less time).
                    flags |= UInt32(MDB_WRITEMAP) | UInt32(MDB_NORDAHEAD)
                }
                if !configuration.singleProcess {
                    try Self.checkSingleName(canonical)
                    try Self.reserveLockFile(of: canonical, readers: configuration.maxReaders)
                }
                try check(mdb_env_open(env, canonical, flags, 0o644), "open \(canonical)")
                if throughMap { try Self.reserveMap(of: env, path: canonical) }
                try Self.checkLength(of: env, path: canonical)
                openedMapTable = try Self.openMapTable(of: env, readOnly: configuration.readOnly)
                // Slots left by dead processes pin old pages: clear them before anything else.
                var dead: Int32 = 0
                _ = mdb_reader_check(env, &dead)
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
        // Without full durability the last commits may sit in OS buffers: flush them on close,
        // except for a throwaway store written through its map (usually deleted by now).
        if configuration.durability != .full && !configuration.readOnly && !writesThroughMap {
            _ = mdb_env_sync(handle, 1)
        }
        mdb_env_close(handle)
        OpenFiles.unregister(path)
    }

    /// Runs `body` in a read-only snapshot; readers never block the writer or each other.
    /// Do not call `read` or `write` from inside `body`.
    public func read<R>(_ body: (any TransactionReading) throws -> R) throws -> R {
        try readLMDB(body)
    }

    /// ``read(_:)`` with LMDB's own transaction type, for code of this backend.
    func readLMDB<R>(_ body: (LMDBReadTransaction) throws -> R) throws -> R {
        try adoptingResizedMap {
            try mapLock.withShared {
                try ownUse(writing: false) {
                    while true {
                        let txn = try begin(flags: UInt32(MDB_RDONLY))
                        let map: DatabaseMap?
                        do { map = try self.map(in: txn) } catch {
                            mdb_txn_abort(txn)
                            throw error
                        }
                        // The map's table appeared after this snapshot began: take another.
                        guard let map else {
                            mdb_txn_abort(txn)
                            continue
                        }
                        defer { mdb_txn_abort(txn) }
                        return try body(LMDBReadTransaction(handle: txn, map: map))
                    }
                }
            }
        }
    }

    /// For a store without LMDB's lock file (``StorageOptions/singleProcess``), LMDB tracks
    /// no readers and takes no writer lock: a write here excludes every other transaction
    /// of this process (a commit may reuse pages an open reader still sees). Other stores
    /// rely on LMDB's own locking. The lock is not re-entrant: on such a store, never start
    /// a transaction (nor open a new database, which writes) inside another of its own.
    private func ownUse<R>(writing: Bool, _ body: () throws -> R) rethrows -> R {
        guard configuration.singleProcess else { return try body() }
        return writing ? try useLock.withExclusive(body) : try useLock.withShared(body)
    }

    /// Runs `body` in the single write transaction and commits when it returns.
    /// Anything `body` throws aborts the transaction: nothing it wrote remains. A failed
    /// commit (disk full, I/O error, map full) also leaves nothing, and the environment
    /// stays usable: the next `write` starts afresh.
    public func write<R>(_ body: (any WriteTransaction) throws -> R) throws -> R {
        try writeLMDB(body)
    }

    /// ``write(_:)`` with LMDB's own transaction type, for code of this backend.
    func writeLMDB<R>(_ body: (LMDBWriteTransaction) throws -> R) throws -> R {
        try adoptingResizedMap {
            try mapLock.withShared { try ownUse(writing: true) { try writeLocked(body) } }
        }
    }

    /// ``writeLMDB(_:)`` once its locks are held.
    private func writeLocked<R>(_ body: (LMDBWriteTransaction) throws -> R) throws -> R {
        let txn = try begin(flags: 0)
        let result: R
        do {
            let map = WriteMap(try map(in: txn) ?? .identity)
            result = try body(LMDBWriteTransaction(handle: txn, faults: faults, map: map, environment: self))
        } catch {
            // The transaction is still ours: LMDB ends it only in commit or abort.
            mdb_txn_abort(txn)
            throw error
        }
        // LMDB rule: `mdb_txn_commit` frees the transaction whether it succeeds or
        // fails ("the transaction handle is freed ... even if an error is returned").
        // Never abort it after a failed commit: for the top-level transaction that
        // frees LMDB's reused `me_txn0` and the next write touches freed memory.
        let code = commit(txn, at: .commit)
        // LMDB reports a short write ("filesystem full?") as EIO: name it for what it is.
        if code == EIO, let free = availableBytes(), free < Self.nearlyFull {
            try record(ENOSPC, "commit (a short write: \(free) bytes left on the file system)")
        }
        try record(code, "commit")
        return result
    }

    /// Like ``write(_:)``, but when the map fills it aborts, grows the map and runs `body`
    /// again (up to `attempts` times). `body` must therefore be safe to run twice.
    public func write<R>(makingRoom attempts: Int, _ body: (any WriteTransaction) throws -> R) throws -> R {
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
            let current = unlockedInfo.mapSize
            let maximum = configuration.maximumMapSize
            guard current < maximum else { throw LMDBError.mapSizeLimit(current: current, maximum: maximum) }
            // A map written through is allocated on disk in full: it grows by a quarter (at
            // least 16 MiB), not by doubling, so as not to claim disk it will not fill.
            let grown = configuration.writesThroughMap ? current + max(current / 4, 1 << 24) : current * 2
            try check(mdb_env_set_mapsize(handle, min(grown, maximum)), "grow map")
            try reserveResizedMap(previous: current)
        }
    }

    /// Size and use of the map, for `botrix stats` and for deciding when to grow.
    /// Takes the map lock: LMDB reads its meta pages, which `growMap` remaps.
    public var info: Info {
        mapLock.withShared { unlockedInfo }
    }

    /// ``info`` for callers that already hold the map lock.
    var unlockedInfo: Info {
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

    /// The seam's figures: ``info`` without LMDB's page numbers.
    public var figures: StorageFigures {
        let info = info
        return StorageFigures(
            mapSize: info.mapSize, usedBytes: info.usedBytes, pageSize: info.pageSize, maxReaders: info.maxReaders,
            readersInUse: info.readersInUse)
    }

    /// Opens another LMDB file (a scratch store, a backup copy).
    public func open(_ options: StorageOptions) throws -> any StorageEngine { try Environment(options) }

    /// Writes a consistent copy of the environment to `destination` while others keep
    /// reading and writing; `compact` omits free pages (LMDB's `mdb_env_copyfd2`). The file is
    /// created here, never over an existing one nor through a symbolic link, and readable by
    /// its owner only: it holds all the data, and `mdb_env_copy2` would create it with the
    /// umask's mode, open to others while it is written.
    public func copy(to destination: String, compact: Bool) throws {
        let descriptor = Glibc.open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LMDBError.lmdb(code: errno, operation: "copy to \(destination)") }
        defer { Glibc.close(descriptor) }
        do {
            try check(
                mdb_env_copyfd2(handle, descriptor, compact ? UInt32(MDB_CP_COMPACT) : 0), "copy to \(destination)")
        } catch {
            // Only the file made here: not one another program put at the name since.
            var made = stat()
            var named = stat()
            if fstat(descriptor, &made) == 0, lstat(destination, &named) == 0, made.st_ino == named.st_ino,
                made.st_dev == named.st_dev
            {
                Glibc.unlink(destination)
            }
            throw error
        }
    }

    /// Flushes buffers to disk; needed only with `nosync` / `nometasync` durability.
    public func sync() throws {
        try check(mdb_env_sync(handle, 1), "sync")
    }

    /// Another process may grow the map; LMDB then refuses new transactions here until
    /// this process adopts the new size, which needs every transaction of ours closed.
    func adoptingResizedMap<R>(_ body: () throws -> R) throws -> R {
        while true {
            do {
                return try body()
            } catch let error as LMDBError where error.isMapResized {
                try mapLock.withExclusive { () in
                    try check(mdb_env_set_mapsize(handle, 0), "adopt resized map")
                    try reserveResizedMap(previous: nil)
                }
            }
        }
    }

    /// Below this many free bytes on the file system, an EIO from a commit is taken to be a
    /// full disk: LMDB turns a short `pwrite` into EIO, which is what a full disk causes.
    static let nearlyFull = 1 << 20

    /// Bytes the file system holding the data file still offers, or nil when unknown.
    public func availableBytes() -> Int? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int(stats.f_bavail) * Int(stats.f_frsize)
    }

    /// The error that made LMDB give up on this environment, or nil while it is healthy.
    /// Only a restart (a new `Environment`) clears it.
    public var fatalError: (any StorageError)? { fatal.withLock { $0 } }

    /// Commits `txn` (or, when a failure is injected at `point`, ends it as a failed commit
    /// would) and returns LMDB's code. Either way `txn` is gone afterwards.
    func commit(_ txn: OpaquePointer, at point: FaultInjector.Point) -> Int32 {
        if let code = faults.failure(at: point) {
            mdb_txn_abort(txn)
            return code
        }
        return mdb_txn_commit(txn)
    }

    /// Throws for a non-zero `code`, remembering `MDB_PANIC` as fatal.
    func record(_ code: Int32, _ operation: @autoclosure () -> String) throws {
        guard code != 0 else { return }
        let error = LMDBError.lmdb(code: code, operation: operation())
        if code == MDB_PANIC { fatal.withLock { $0 = $0 ?? error } }
        throw error
    }

    func begin(flags: UInt32) throws -> OpaquePointer {
        var txn: OpaquePointer?
        if flags & UInt32(MDB_RDONLY) == 0 {
            if let fatal = fatal.withLock({ $0 }) { throw fatal }
            if writingFinished.load(ordering: .acquiring) {
                throw LMDBError.lmdb(code: EROFS, operation: "write to \(path) after its writing was finished")
            }
            if let code = faults.failure(at: .beginWrite) { try record(code, "begin write transaction") }
        }
        try record(
            mdb_txn_begin(handle, nil, flags, &txn),
            flags & UInt32(MDB_RDONLY) != 0 ? "begin read transaction" : "begin write transaction")
        guard let txn else { throw LMDBError.lmdb(code: 12, operation: "begin transaction") }
        return txn
    }
}

extension Durability {
    /// LMDB's environment flags for this durability.
    var flags: UInt32 {
        switch self {
        case .full: return 0
        case .nometasync: return UInt32(MDB_NOMETASYNC)
        case .nosync: return UInt32(MDB_NOSYNC)
        }
    }
}
