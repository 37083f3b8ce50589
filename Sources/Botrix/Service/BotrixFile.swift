public import EventLog
public import Foundation
public import Storage

/// A Botrix data file as a command-line tool opens it: the door for everything but
/// serving. Read-only tools (`stats`, `events`, `replay`, `verify`, `backup`, `keys list`)
/// open it beside a running server; maintenance (`rebuild`, `keys create/revoke`, the master
/// key rotation) opens it for writing. It starts no writer thread and opens no vault, so a
/// tool never needs the master key unless it handles secrets.
public final class BotrixFile: Sendable {
    /// How the file is opened.
    public enum Access: Sendable {
        /// Reads only; works beside a server and on a read-only file system.
        case readOnly
        /// Writes too (a server on the same file waits for each write to commit).
        case maintenance
    }

    let store: BotrixStore

    /// Opens the file at `path`.
    /// - Throws: ``StorageOpenError`` naming the file, the cause and the fix when it cannot
    ///   be opened (``StorageOpenError/missing(path:)`` when a read-only open finds nothing).
    public init(path: String, mapSize: Int = 1 << 30, durability: Durability = .full, access: Access = .readOnly)
        throws
    {
        store = try BotrixStore(
            .init(path: path, mapSize: mapSize, durability: durability, readOnly: access == .readOnly))
    }

    /// Throws ``StorageOpenError/missing(path:)`` when no store is at `path` (a tool that
    /// would otherwise create one checks first).
    public static func requireExisting(_ path: String) throws { try BotrixStore.requireExisting(path) }

    /// The canonical path of the data file.
    public var path: String { store.environment.path }

    /// The last committed event.
    public func head() throws -> LogHead { try store.log.head() }

    /// Head, lag, totals, storage figures and readers; see ``StoreStatus``.
    public func status() throws -> StoreStatus { try store.status() }

    /// The names of the projections every store has (`botrix rebuild NAME`).
    public static let standardProjectionNames = Projections.standard.map { $0.name }

    /// The names of the registered projections (`botrix rebuild NAME`).
    public var projectionNames: [String] { store.projectionTypes.map { $0.name } }

    /// Up to `limit` events after `after`, in order, in one short read transaction.
    public func read(after: UInt64, limit: Int) throws -> [RecordedEvent] {
        try store.log.read(after: after, limit: limit)
    }

    /// The sequence of the first event recorded at or after `milliseconds` (head + 1 when none).
    public func firstSequence(recordedAtOrAfter milliseconds: Int64) throws -> UInt64 {
        try store.environment.read { try store.log.firstSequence(recordedAtOrAfter: milliseconds, in: $0) }
    }

    /// Events after `sequence`: those committed, then each new commit (also one made by
    /// another process, which the subscription polls for).
    public func follow(after sequence: UInt64) -> EventSubscription { store.log.subscribe(after: sequence) }

    /// The state of jobs and accounts at `cut`, folded from the log alone.
    public func replay(asOf cut: ReplayCut, job: UUID? = nil, account: Int64? = nil) throws -> ReplayState {
        try ReplayState.fold(store.log, upTo: cut, job: job, account: account)
    }

    /// Checks the hash chain and the stream index; `progress` receives the sequence reached.
    public func verifyLog(progress: (UInt64) -> Void = { _ in }) throws -> LogVerification {
        try store.log.verify(progress: progress)
    }

    /// Compares every projection database with a fresh rebuild from the log (in a scratch
    /// file); returns the first difference of each database (none: intact).
    public func verifyProjections(progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> [ProjectionDifference] {
        try Projections.compareWithRebuild(store: store, progress: progress)
    }

    /// How many projection databases ``verifyProjections(progress:)`` compares.
    public func projectionDatabaseCount() throws -> Int { try Projections(store: store).databases.count }

    /// Rebuilds the registered projections (the named ones when `only` is set) online; see
    /// ``BotrixStore/rebuild(only:yieldingToWriters:progress:)``. Needs ``Access/maintenance``.
    public func rebuild(
        only: Set<String>? = nil, yieldingToWriters: Bool? = nil, progress: (UInt64) -> Void = { _ in }
    ) throws -> RebuildReport {
        try store.rebuild(only: only, yieldingToWriters: yieldingToWriters, progress: progress)
    }

    /// The API keys kept in this file.
    public func keys() throws -> APIKeyStore { try APIKeyStore(environment: store.environment) }
}

/// What `botrix backup` made.
public struct BackupResult: Sendable {
    /// The copy's size in bytes.
    public var bytes: Int
    /// The copy holds the log up to this sequence, its hash chain verified.
    public var head: UInt64
    /// How long the copy took.
    public var seconds: Double
    /// The keyring written beside the copy, when the file has secrets.
    public var keyringPath: String?
    /// Account deletions acknowledged while the copy was made and not in it: the copy is the
    /// file as of its last snapshot. 0 but under steady deletions; nil when they could not be
    /// counted (``deletionsUncounted`` says why).
    public var deletionsAfter: Int? = 0
    /// Why the deletions after the copy could not be counted.
    public var deletionsUncounted: String? = nil
}

/// Why a backup was refused or failed; nothing half made is left behind.
public struct BackupFailure: Error, CustomStringConvertible {
    public let description: String
}

extension BotrixFile {
    /// Refuses a destination that exists or a folder that cannot be written, before anything
    /// is opened (a tool checks this first, so the user hears of a wrong DEST at once).
    public static func checkBackupDestination(_ destination: String) throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw BackupFailure(description: "\(destination) already exists: choose a new file name")
        }
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw BackupFailure(description: "cannot write to \(folder): check that it exists and is writable")
        }
        guard !FileManager.default.fileExists(atPath: destination + "-keyring") else {
            throw BackupFailure(
                description: "\(destination)-keyring already exists: choose a new file name (without \(destination) "
                    + "beside it, it is what a backup stopped while putting its files in place left: remove it)")
        }
    }

    /// Writes a verified, compacted copy of the file to `destination`, with the keyring of
    /// the copy's epoch beside it (`DEST-keyring`), all fsynced before it returns; see
    /// ``BotrixStore/backup(to:pageSize:progress:atSnapshot:)`` for how it stays short beside
    /// a server, and `BotrixStore.makeBackup` for the keyring, the erasures committed while it
    /// runs and the files it makes. `DEST` and `DEST-keyring` appear only when all is done;
    /// whatever fails (a full destination, a copy that does not verify), nothing half made is
    /// left behind. `progress` receives (events copied, events to copy).
    public func backup(to destination: String, progress: (UInt64, UInt64) -> Void = { _, _ in }) throws -> BackupResult
    {
        try Self.checkBackupDestination(destination)
        let started = DispatchTime.now().uptimeNanoseconds
        let made = try store.makeBackup(to: destination, progress: progress)
        var result = BackupResult(
            bytes: made.bytes, head: made.report.head,
            seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, keyringPath: made.keyringPath)
        // Counted last, once everything else is done: a deletion acknowledged before this is in
        // the copy or in this count.
        do {
            result.deletionsAfter = try store.deletions(after: made.report.head)
        } catch {
            result.deletionsAfter = nil
            result.deletionsUncounted = "\(error)"
        }
        return result
    }
}

extension BotrixFile {
    /// Moves the account secrets to a new master key; see ``MasterKeyRotation``. Run it
    /// only with no server on the file (the caller holds the serve lock).
    public func rotateMasterKey(current: SecretBox, new: SecretBox) async throws -> MasterKeyRotation {
        try await MasterKeyRotation.rotate(store: store, current: current, new: new)
    }
}
