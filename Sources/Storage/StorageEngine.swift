/// How to open a store. Every field has a default that works on a laptop; a backend
/// ignores what it has no use for (a SQL engine has no map).
public struct StorageOptions: Sendable {
    /// The data file (LMDB keeps a `-lock` file beside it).
    public var path: String
    /// Initial size in bytes of the memory map; the file only grows as data is written.
    public var mapSize: Int
    /// The store never grows beyond this many bytes; beyond it writes fail as out of space.
    public var maximumMapSize: Int
    /// How many read transactions may be open at once across processes.
    public var maxReaders: Int
    /// What a commit waits for; see ``Durability``.
    public var durability: Durability
    /// Open without write access (tools that read while a server writes).
    public var readOnly: Bool
    /// A bulk fill of a throwaway store (a rebuild's scratch file): a backend with a
    /// memory map may write pages straight into it instead of copying them with `write`
    /// calls, provided that running out of disk still fails a write with an error rather
    /// than killing the process. The LMDB backend allocates the whole map on disk before
    /// writing through it (see `Environment`), so opening needs the map's size free; it
    /// refuses to open such a store on a file system where allocating ahead does not
    /// reserve room for later stores (copy-on-write ones: btrfs, ZFS), and does not flush
    /// the store when it closes.
    public var writesThroughMap: Bool
    /// Only this process uses the store, never two transactions of it at once when one of
    /// them writes (a rebuild's scratch file: filled, then read): LMDB keeps no lock file
    /// for it (`MDB_NOLOCK`) and `Environment` serializes its writes against its reads. A
    /// lock file is a shared map LMDB stores into on every commit, which a full copy-on-write
    /// file system (btrfs) answers with SIGBUS however it was allocated.
    public var singleProcess: Bool

    public init(
        path: String, mapSize: Int = 1 << 30, maximumMapSize: Int = 1 << 40, maxReaders: Int = 510,
        durability: Durability = .full, readOnly: Bool = false, writesThroughMap: Bool = false,
        singleProcess: Bool = false
    ) {
        self.path = path
        self.mapSize = mapSize
        self.maximumMapSize = max(maximumMapSize, mapSize)
        self.maxReaders = maxReaders
        self.durability = durability
        self.readOnly = readOnly
        self.writesThroughMap = writesThroughMap
        self.singleProcess = singleProcess
    }
}

/// Size and use of a store, for `botrix stats`, health and metrics.
public struct StorageFigures: Sendable, Equatable {
    /// Bytes the store may use now without growing (LMDB's map size).
    public var mapSize: Int
    /// Bytes in use.
    public var usedBytes: Int
    /// The backend's unit of allocation.
    public var pageSize: Int
    /// Read transactions the store allows at once.
    public var maxReaders: Int
    /// Read transactions open now.
    public var readersInUse: Int

    public init(mapSize: Int, usedBytes: Int, pageSize: Int, maxReaders: Int, readersInUse: Int) {
        self.mapSize = mapSize
        self.usedBytes = usedBytes
        self.pageSize = pageSize
        self.maxReaders = maxReaders
        self.readersInUse = readersInUse
    }
}

/// The storage seam: what Botrix needs of a store, which LMDB provides today and a SQL
/// engine can provide later. The event log, the projections, the idempotency answers, the
/// key tables and the account vault are written against this protocol and the transaction
/// protocols, never against a backend.
///
/// What every backend must guarantee (docs/storage.md, "The storage seam"):
/// - **Atomic batch**: everything written in one ``write(_:)`` commits together or not at
///   all; a `body` that throws leaves nothing.
/// - **One writer**: write transactions are serialized; a write sees the previous write's
///   result, so a sequence number read and incremented inside it is gapless and in commit
///   order.
/// - **Snapshot reads**: a ``read(_:)`` sees one committed state for its whole duration,
///   unaffected by concurrent commits, and never blocks or is blocked by the writer.
/// - **Ordered keys**: cursors walk keys in bytewise unsigned order.
/// - **Durability at acknowledgement**: when ``write(_:)`` returns, with ``Durability/full``,
///   the data survives a crash of the process and of the machine.
public protocol StorageEngine: AnyObject, Sendable {
    /// Where the store lives (a canonical file path for LMDB).
    var path: String { get }
    /// What it was opened with.
    var options: StorageOptions { get }

    /// Runs `body` in a read-only snapshot. Do not call `read` or `write` inside `body`.
    func read<R>(_ body: (any TransactionReading) throws -> R) throws -> R

    /// Runs `body` in the single write transaction and commits durably when it returns;
    /// anything `body` throws aborts the transaction. A failed commit leaves nothing and
    /// the engine usable.
    func write<R>(_ body: (any WriteTransaction) throws -> R) throws -> R

    /// Like ``write(_:)``, but when the store is full and the backend can make room (LMDB
    /// grows its map) it does and runs `body` again, up to `attempts` times: `body` must be
    /// safe to run more than once.
    func write<R>(makingRoom attempts: Int, _ body: (any WriteTransaction) throws -> R) throws -> R

    /// The handle of the named database, creating it when `create` is true and the store
    /// is writable; a missing one throws an error whose ``StorageError/isMissingDatabase``.
    func database(_ name: String, create: Bool) throws -> Database

    /// The names of every database in the store, in order (a backup copies them all).
    func databaseNames() throws -> [String]

    /// Size and use now.
    var figures: StorageFigures { get }

    /// Open readers and how far behind the oldest is.
    func readers() -> ReaderReport

    /// Frees what readers of dead processes hold; returns how many were cleared.
    func clearStaleReaders() throws -> Int

    /// Like ``clearStaleReaders()``, but only when the store grew by `pages` since the
    /// last look (cheap enough to call after every commit); never throws.
    func clearStaleReadersAfterGrowth(pages: Int) -> Int

    /// Writes a consistent copy to `destination` while others read and write.
    func copy(to destination: String, compact: Bool) throws

    /// Flushes buffered commits (needed only below ``Durability/full``).
    func sync() throws

    /// Bytes the file system holding the store still offers, or nil when unknown.
    func availableBytes() -> Int?

    /// The error that made the backend give up on this store, or nil while healthy.
    var fatalError: (any StorageError)? { get }

    /// Opens another store of the same backend: a scratch store to rebuild into, or a
    /// backup copy to check. It must not be the store itself.
    func open(_ options: StorageOptions) throws -> any StorageEngine

    /// Ends writing: every later write is refused, and disk reserved ahead beyond what the
    /// store holds (``StorageOptions/writesThroughMap``) is given back. A rebuild's scratch
    /// store calls it once it is complete, before its rows are copied out and the live store
    /// grows by a copy of its rows.
    func finishWriting() throws
}

extension StorageEngine {
    /// The handle of the named database, created when missing.
    public func database(_ name: String) throws -> Database { try database(name, create: true) }

    /// ``clearStaleReadersAfterGrowth(pages:)`` with the default of 256 pages.
    public func clearStaleReadersAfterGrowth() -> Int { clearStaleReadersAfterGrowth(pages: 256) }
}

extension StorageEngine {
    /// A compact consistent copy; see ``copy(to:compact:)``.
    public func copy(to destination: String) throws { try copy(to: destination, compact: true) }
}
