import EventLog
import Foundation
import Storage

/// The projections replayed from a live store's log into a file of their own (beside it for
/// a rebuild; in a temporary folder for `verify`):
/// what `verify` compares the live projections with, and what an online rebuild moves in.
///
/// Building it takes no lock on the live file: the log is read in short read transactions,
/// a page at a time, and each page is applied and committed to the scratch file (durability
/// off — the file is thrown away). The live server keeps appending meanwhile; ``ScratchLanes/catchUp(to:progress:)``
/// brings the scratch copy to a later head, and a ``PartnerTransfer`` moves its rows into the
/// live file beside the live rows, to be exchanged with them in one short transaction.
///
/// Used by one task at a time (build, catch up, then the copy, a step per write), hence
/// `@unchecked Sendable`: the copy runs on the writer's thread.
public final class ScratchProjections: @unchecked Sendable {
    /// The scratch file's path: `<db>.rebuild-<pid>-<uuid>.mdb` beside the live file, so it
    /// is on the same file system and a leftover from a killed run is found and removed.
    /// Beside it, `<path>-owner` carries an exclusive `flock` for as long as this run lives:
    /// a file whose owner lock can be taken is a leftover (pids are no proof — a container's
    /// rebuild is often pid 1 or 2, and pids are reused).
    public let path: String
    private let owner: Int32
    /// The last live sequence replayed into the scratch file.
    public private(set) var replayedTo: UInt64 = 0
    /// Set once ``remove()`` ran: the files are gone and the owner lock let go.
    private var removed = false

    /// The projections this file holds (nil: every one).
    let only: Set<String>?
    private let environment: any StorageEngine
    private let log: EventLog
    private let projections: Projections

    /// Whether the scratch file is written through its memory map (see ``init(store:only:folder:throughMap:)``).
    public let writesThroughMap: Bool

    /// Creates an empty scratch file for the projections named by `only` (all when nil).
    ///
    /// With `throughMap`, pages are stored straight into the memory map (a fifth less work
    /// for a rebuild than copying them with `write` calls) once the whole map is allocated
    /// on disk: twice what the live projections occupy, plus 16 MiB (the map grows by a
    /// quarter when that is not enough). Where the disk cannot spare that much, or its
    /// file system does not keep allocated space (btrfs, ZFS), the file is written as
    /// before, growing as it fills; see ``writesThroughMap``. ``finishWriting()`` gives the
    /// unused part back before its rows are copied.
    public init(store: BotrixStore, only: Set<String>? = nil, folder: String? = nil, throughMap: Bool = false) throws {
        self.only = only
        let live = store.environment.path
        let directory = folder ?? (live as NSString).deletingLastPathComponent
        let name = (live as NSString).lastPathComponent
        Self.removeLeftovers(of: name, in: directory)
        path = "\(directory)/\(name).rebuild-\(getpid())-\(UUID().uuidString).mdb"
        // The owner lock first: a crash after it leaves nothing that looks alive.
        owner = open(path + "-owner", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard owner >= 0, flock(owner, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            if owner >= 0 {
                close(owner)
                Self.removeFiles(of: path)
            }
            throw FileProblem(operation: "create", path: path + "-owner", code: code)
        }
        // A scratch file that cannot be made (a full disk fails on its lock file) leaves nothing.
        do {
            let reservation = throughMap ? try Self.reservation(for: store, only: only) : nil
            (environment, writesThroughMap) = try Self.openStore(
                path, beside: store.environment, reserving: reservation)
            log = try EventLog(environment: environment)
            projections = try Projections(environment: environment, registered: store.projectionTypes)
        } catch {
            Self.removeFiles(of: path)
            close(owner)
            throw error
        }
    }

    /// The map to allocate for a scratch copy of the live projections named by `only`:
    /// twice what they occupy, plus 16 MiB, in whole MiB. A replay in thousands of commits
    /// leaves free pages behind in the scratch file: a 300,000-event store whose projections
    /// occupy 73 MB filled 134 MB of scratch map.
    static func reservation(for store: BotrixStore, only: Set<String>?) throws -> Int {
        let live = try Projections(store: store)
        let occupied = try store.environment.read { txn in
            try live.databases(only: only).reduce(0) { $0 + (try txn.storedBytes($1)) }
        }
        let megabyte = 1 << 20
        return (2 * occupied + 16 * megabyte + megabyte - 1) / megabyte * megabyte
    }

    /// Opens the scratch store at `path`: written through its map when a `reserving` size
    /// is given and the disk can hold that map, otherwise (or when that open fails) written
    /// with `write` calls. Either way without a lock file (only this run uses it, filling it
    /// and then reading it): a lock file is a map LMDB stores into at every commit, which
    /// kills the process with SIGBUS once a copy-on-write file system (btrfs) is full.
    private static func openStore(_ path: String, beside live: any StorageEngine, reserving: Int?) throws
        -> (any StorageEngine, Bool)
    {
        if let reserving {
            let options = StorageOptions(
                path: path, mapSize: reserving, durability: .nosync, writesThroughMap: true, singleProcess: true)
            if let mapped = try? live.open(options) { return (mapped, true) }
            try? FileManager.default.removeItem(atPath: path)  // single-process: no lock file
        }
        let options = StorageOptions(
            path: path, mapSize: max(1 << 26, live.figures.mapSize), durability: .nosync, singleProcess: true)
        return (try live.open(options), false)
    }

    /// Ends the replay into this scratch copy before its rows are copied: later catch-ups are refused,
    /// and the disk allocated beyond the rows it holds is given back, as room for the copy
    /// of them the copy adds to the live file.
    public func finishWriting() throws {
        try environment.finishWriting()
    }

    /// When `path` was last modified, or nil when it is missing.
    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Deletes a scratch file with its lock and owner files.
    private static func removeFiles(of path: String) {
        for suffix in ["", "-lock", "-owner"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// The scratch projections, for comparing with the live ones.
    public var rebuilt: Projections { projections }

    /// Reads as of the scratch file's last commit.
    func read<T>(_ body: (any TransactionReading) throws -> T) throws -> T {
        try environment.read(body)
    }

    /// Folds one decoded page into the scratch file, in one commit with its checkpoint.
    func fold(_ page: DecodedPage) throws {
        try environment.write(makingRoom: 8) { scratchTxn in
            var ltx = LogTransaction(log: log, transaction: scratchTxn, now: 0)
            try projections.apply(decoded: page.events, in: &ltx, only: only)
            try projections.setCheckpoint(page.last, in: &ltx, only: only)
        }
        replayedTo = page.last
    }

    /// Copies at most `limit` rows of this file's database `source` (one of
    /// ``Projections/databases(only:)`` of ``rebuilt``), those after the key `after` (from
    /// the first when nil), to the end of `partner` in the live transaction `ltx`. Returns
    /// how many were copied and the last key copied.
    func copy(
        _ source: Database, after: [UInt8]?, limit: Int, into partner: Database, in ltx: inout LogTransaction
    ) throws -> (rows: Int, last: [UInt8]?) {
        try environment.read { scratchTxn in
            try scratchTxn.withCursor(source) { cursor in
                var entry = try after.map { key in try cursor.seek(atLeast: key) } ?? cursor.first()
                if let key = after, let found = entry, found.key.elementsEqual(key) { entry = try cursor.next() }
                var rows = 0
                var last: [UInt8]?
                try ltx.withAppender(partner) { appender in
                    while rows < limit, let row = entry {
                        try appender.append(row)
                        rows += 1
                        if rows == limit { last = Array(row.key) }
                        entry = try cursor.next()
                    }
                }
                return (rows, last)
            }
        }
    }

    /// Deletes the scratch file (call when done; a crash leaves it for the next run to remove).
    public func remove() {
        guard !removed else { return }
        removed = true
        Self.removeFiles(of: path)
        close(owner)
    }

    /// Removes the scratch files that rebuilds of `dataFile` left beside it when they were
    /// killed (see ``removeLeftovers(of:in:)``); returns their paths. `botrix serve` calls it
    /// on start: a leftover holds the disk its run had reserved until something removes it.
    @discardableResult
    public static func removeLeftovers(besideDataFile dataFile: String) -> [String] {
        let directory = (dataFile as NSString).deletingLastPathComponent
        return removeLeftovers(
            of: (dataFile as NSString).lastPathComponent, in: directory.isEmpty ? "." : directory)
    }

    /// Removes scratch files of `name` left in `directory` by runs that no longer hold their
    /// owner lock (killed, crashed), with their lock and owner files; returns their paths.
    @discardableResult
    static func removeLeftovers(of name: String, in directory: String) -> [String] {
        let prefix = "\(name).rebuild-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        // A run that failed or died may have left only the lock or owner file.
        let scratchFiles = Set(
            entries.filter { $0.hasPrefix(prefix) }.map { entry in
                ["-lock", "-owner"].first(where: entry.hasSuffix).map { String(entry.dropLast($0.count)) } ?? entry
            }.filter { $0.hasSuffix(".mdb") })
        for entry in scratchFiles.sorted() {
            let scratch = "\(directory)/\(entry)"
            // Without its scratch file, an owner file may belong to a run that has just made it
            // and not yet locked it: only one a minute old is a leftover.
            if !entries.contains(entry), let made = modified(scratch + "-owner") ?? modified(scratch + "-lock"),
                made > Date(timeIntervalSinceNow: -60)
            {
                continue
            }
            // Read-only is enough for flock, and another user's 0600 file must not look ownerless.
            let descriptor = open(scratch + "-owner", O_RDONLY | O_CLOEXEC)
            let missing = descriptor < 0 && errno == ENOENT
            defer { if descriptor >= 0 { close(descriptor) } }
            // No owner file (a crash before it was made) or a lock that can be taken: no run
            // owns it. An owner file that cannot be opened is left alone.
            guard missing || (descriptor >= 0 && flock(descriptor, LOCK_EX | LOCK_NB) == 0) else { continue }
            removeFiles(of: scratch)
            removed.append(scratch)
        }
        return removed
    }
}
