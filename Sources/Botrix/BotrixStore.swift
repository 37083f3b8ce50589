public import EventLog
import Foundation
public import LMDB

/// Everything Botrix keeps in one LMDB file: the log and (as the domain grows) its
/// projections. Opened once per process; servers and CLI commands share this one path.
public final class BotrixStore: Sendable {
    /// How to open the store; defaults work on a laptop.
    public struct Options: Sendable {
        public var path: String
        public var mapSize: Int
        public var durability: Durability
        public var readOnly: Bool

        public init(path: String, mapSize: Int = 1 << 30, durability: Durability = .full, readOnly: Bool = false) {
            self.path = path
            self.mapSize = mapSize
            self.durability = durability
            self.readOnly = readOnly
        }
    }

    public let environment: Environment
    public let log: EventLog

    /// Opens the file at `options.path`, creating its folder and the file when writable.
    /// - Throws: ``BotrixStoreError/missing(path:)`` when a read-only open finds no file.
    public init(_ options: Options) throws {
        let folder = URL(fileURLWithPath: options.path).deletingLastPathComponent().path
        if options.readOnly {
            guard FileManager.default.fileExists(atPath: options.path) else {
                throw BotrixStoreError.missing(path: options.path)
            }
        } else if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        environment = try Environment(
            .init(
                path: options.path, mapSize: options.mapSize, durability: options.durability, readOnly: options.readOnly
            ))
        log = try EventLog(environment: environment)
    }

    /// Starts the single writer for this store (servers and benchmarks; readers need none).
    public func makeWriter(
        onBatch: @escaping @Sendable (GroupCommitWriter.BatchReport) -> Void = { _ in }
    ) -> GroupCommitWriter {
        GroupCommitWriter(log: log, onBatch: onBatch)
    }
}

/// Why a store could not be opened.
public enum BotrixStoreError: Error, CustomStringConvertible {
    case missing(path: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no Botrix data at \(path): check --db or DB_PATH (a server creates the file on first start)"
        }
    }
}
