public import EventLog
public import Storage
import StorageBackends

/// Everything Botrix keeps in one store (an LMDB file today): the log and (as the domain grows) its
/// projections. Opened once per process; servers and CLI commands share this one path.
public final class BotrixStore: Sendable {
    /// How to open the store; defaults work on a laptop.
    public struct Options: Sendable {
        public var path: String
        public var mapSize: Int
        /// The map grows up to this many bytes; beyond it writes fail as out of space.
        public var maximumMapSize: Int
        public var durability: Durability
        public var readOnly: Bool
        /// No LMDB lock file: for a file only this process ever opens (a backup's copy being
        /// checked); see ``StorageOptions/singleProcess``.
        public var singleProcess: Bool = false
        /// Writes that may wait for the writer; see ``GroupCommitWriter/Options/maximumQueued``.
        public var writerQueueLimit: Int
        /// The projections kept of the log (``Projections/standard`` plus any added).
        public var projections: [any Projection.Type]

        public init(
            path: String, mapSize: Int = 1 << 30, maximumMapSize: Int = 1 << 40, durability: Durability = .full,
            readOnly: Bool = false, writerQueueLimit: Int = 10_000,
            projections: [any Projection.Type] = Projections.standard
        ) {
            self.projections = projections
            self.path = path
            self.mapSize = mapSize
            self.maximumMapSize = maximumMapSize
            self.durability = durability
            self.readOnly = readOnly
            self.writerQueueLimit = writerQueueLimit
        }
    }

    /// The store every part of Botrix reads and writes through (the storage seam).
    public let environment: any StorageEngine
    public let log: EventLog
    private let writerQueueLimit: Int
    /// The projections registered for this store; every part that opens projections on it
    /// (the service, verify, backup, rebuild) opens these.
    public let projectionTypes: [any Projection.Type]

    /// Opens the store at `options.path` through the configured backend, creating its folder
    /// and the file when writable.
    /// - Throws: ``StorageOpenError/missing(path:)`` when a read-only open finds no file.
    /// - Throws: ``StorageOpenError`` naming the file, the cause and what to do, for every
    ///   file that cannot be opened (permissions, not a data file, truncated, newer format, ...).
    public init(_ options: Options) throws {
        let storage = StorageOptions(
            path: options.path, mapSize: options.mapSize, maximumMapSize: options.maximumMapSize,
            durability: options.durability, readOnly: options.readOnly, singleProcess: options.singleProcess)
        do {
            log = try StorageBackends.open(storage) { engine in try EventLog(environment: engine) }
        } catch let error as StorageOpenError {
            throw error
        } catch let error as any StorageError {
            throw error  // the backend kept it as it is (the file is already open in this process)
        } catch EventLogError.unsupportedLogFormat(let found, let supported) {
            throw StorageOpenError.cannotOpen(
                path: options.path,
                cause: "it was written by a newer Botrix (log format \(found); this build reads \(supported))",
                fix: "run the Botrix version that wrote it, or upgrade this one")
        } catch {
            throw StorageOpenError.cannotOpen(path: options.path, cause: "\(error)", fix: "check the path and the file")
        }
        environment = log.environment
        writerQueueLimit = options.writerQueueLimit
        projectionTypes = options.projections
    }

    /// Throws ``StorageOpenError/missing(path:)`` when no store is at `path`, or says why
    /// it cannot be seen.
    public static func requireExisting(_ path: String) throws {
        try StorageBackends.requireExisting(path)
    }

    /// Starts the single writer for this store (servers and benchmarks; readers need none).
    public func makeWriter(
        onBatch: @escaping @Sendable (GroupCommitWriter.BatchReport) -> Void = { _ in }
    ) throws -> GroupCommitWriter {
        try GroupCommitWriter(log: log, options: .init(maximumQueued: writerQueueLimit), onBatch: onBatch)
    }
}
