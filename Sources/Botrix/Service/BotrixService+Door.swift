public import EventLog
import Foundation
public import Storage

/// How `botrix serve` opens its store: the file and its limits.
public struct ServiceStoreOptions: Sendable {
    public var path: String
    public var mapSize: Int
    /// The map grows up to this many bytes; beyond it writes fail as out of space.
    public var maximumMapSize: Int
    public var durability: Durability
    /// Writes that may wait for the writer before new ones are refused (503).
    public var writerQueueLimit: Int

    public init(
        path: String, mapSize: Int = 1 << 30, maximumMapSize: Int = 1 << 40, durability: Durability = .full,
        writerQueueLimit: Int = 10_000
    ) {
        self.path = path
        self.mapSize = mapSize
        self.maximumMapSize = maximumMapSize
        self.durability = durability
        self.writerQueueLimit = writerQueueLimit
    }
}

/// What the writer reports after every batch (for metrics).
public typealias CommitReport = GroupCommitWriter.BatchReport

/// The door for a server: everything `botrix serve` needs besides commands and queries.
extension BotrixService {
    /// Opens the store at `options.path` (creating it), starts its single writer, and opens
    /// the service on it (vault, projections caught up). Nothing else in the process may
    /// open the same file.
    /// - Parameter secrets: the box sealing account secrets, given the canonical path of the
    ///   data file once it is open (a development key file lives beside it); nil for the
    ///   development key file.
    /// - Parameter whenOpened: called once the file is open and before anything runs on it
    ///   (a server takes its serve lock here, so that a file it cannot open is reported as
    ///   such, and a second server stops before starting a writer).
    /// - Parameter onBatch: called after every commit of the writer (metrics).
    public static func open(
        _ options: ServiceStoreOptions, settings: Settings = Settings(),
        whenOpened: (_ dataFile: String, _ head: UInt64) throws -> Void = { _, _ in },
        secrets: (_ dataFile: String) throws -> SecretBox? = { _ in nil },
        leaseClock: (@Sendable () -> Int64)? = nil,
        onBatch: @escaping @Sendable (CommitReport) -> Void = { _ in }
    ) async throws -> BotrixService {
        let store = try BotrixStore(
            .init(
                path: options.path, mapSize: options.mapSize, maximumMapSize: options.maximumMapSize,
                durability: options.durability, writerQueueLimit: options.writerQueueLimit))
        try whenOpened(store.environment.path, try store.log.head().sequence)
        let box = try secrets(store.environment.path)
        let writer = try store.makeWriter(onBatch: onBatch)
        do {
            return try await BotrixService(
                store: store, writer: writer, settings: settings, secrets: box, leaseClock: leaseClock)
        } catch {
            await writer.shutdown()
            throw error
        }
    }

    /// The canonical path of the data file.
    public var path: String { store.environment.path }

    /// The last committed event.
    public func head() throws -> LogHead { try store.log.head() }

    /// The writer's health: running, failing, stalled, queued.
    public var writerStatus: WriterStatus { writer.status }

    /// The fingerprint of the key sealing account secrets (logged at start, never the key).
    public var secretsFingerprint: String { secrets.fingerprint }

    /// The API keys kept in this store.
    public func keys() throws -> APIKeyStore { try APIKeyStore(environment: store.environment) }

    /// Up to `limit` events after `after`, in order, in one short read transaction.
    public func read(after: UInt64, limit: Int) throws -> [RecordedEvent] {
        try store.log.read(after: after, limit: limit)
    }

    /// Returns once an event after `sequence` is committed, or after `timeout`.
    public func waitForAppend(after sequence: UInt64, timeout: Duration) async {
        await store.log.waitForAppend(after: sequence, timeout: timeout)
    }

    /// Frees what readers of dead processes hold; returns how many were cleared.
    public func clearStaleReaders() throws -> Int { try store.environment.clearStaleReaders() }

    /// Open readers and how far behind the oldest is (no read transaction needed).
    public func readers() -> ReaderReport { store.environment.readers() }

    /// Size and use of the store (no read transaction needed).
    public var storageFigures: StorageFigures { store.environment.figures }

    /// Lets the writer commit what is queued and stop, then flushes the file (which
    /// `nosync` / `nometasync` leave to the OS): no acknowledged write is lost. Idempotent.
    public func shutdown() async throws {
        await writer.shutdown()
        try store.environment.sync()
    }
}
