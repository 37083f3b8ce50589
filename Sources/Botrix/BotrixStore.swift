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
        /// The map grows up to this many bytes; beyond it writes fail as out of space.
        public var maximumMapSize: Int
        public var durability: Durability
        public var readOnly: Bool
        /// Writes that may wait for the writer; see ``GroupCommitWriter/Options/maximumQueued``.
        public var writerQueueLimit: Int

        public init(
            path: String, mapSize: Int = 1 << 30, maximumMapSize: Int = 1 << 40, durability: Durability = .full,
            readOnly: Bool = false, writerQueueLimit: Int = 10_000
        ) {
            self.path = path
            self.mapSize = mapSize
            self.maximumMapSize = maximumMapSize
            self.durability = durability
            self.readOnly = readOnly
            self.writerQueueLimit = writerQueueLimit
        }
    }

    public let environment: Environment
    public let log: EventLog
    private let writerQueueLimit: Int

    /// Opens the file at `options.path`, creating its folder and the file when writable.
    /// - Throws: ``BotrixStoreError/missing(path:)`` when a read-only open finds no file.
    /// - Throws: ``BotrixStoreError`` naming the file, the cause and what to do, for every
    ///   file that cannot be opened (permissions, not LMDB, truncated, newer format, ...).
    public init(_ options: Options) throws {
        let folder = URL(fileURLWithPath: options.path).deletingLastPathComponent().path
        if options.readOnly {
            try Self.requireExisting(options.path)
        } else if !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw BotrixStoreError.cannotOpen(
                    path: options.path, cause: "its folder \(folder) cannot be created",
                    fix: "create it, or check the permissions of its parent")
            }
        }
        // LMDB would turn an existing empty file into a new store; a file that exists was
        // meant to hold data (a failed copy, a wrong path): refuse it.
        if let size = (try? FileManager.default.attributesOfItem(atPath: options.path))?[.size] as? Int, size == 0,
            (try? FileManager.default.attributesOfItem(atPath: options.path))?[.type] as? FileAttributeType
                == .typeRegular
        {
            throw BotrixStoreError.cannotOpen(
                path: options.path, cause: "it is empty (0 bytes), not a Botrix data file",
                fix: "restore a backup, or remove it to start a new store")
        }
        let existed = FileManager.default.fileExists(atPath: options.path)
        do {
            environment = try Environment(
                .init(
                    path: options.path, mapSize: options.mapSize, maximumMapSize: options.maximumMapSize,
                    durability: options.durability, readOnly: options.readOnly))
            log = try EventLog(environment: environment)
        } catch {
            // A store this open began to create (a full disk) is removed, so that the next
            // start, once space is freed, creates it afresh instead of refusing a stub.
            if !existed && !options.readOnly {
                try? FileManager.default.removeItem(atPath: options.path)
                try? FileManager.default.removeItem(atPath: options.path + "-lock")
            }
            throw BotrixStoreError.explaining(error, path: options.path)
        }
        writerQueueLimit = options.writerQueueLimit
    }

    /// Throws ``BotrixStoreError/missing(path:)`` when no file is at `path`, or says why
    /// it cannot be seen (a folder on the way the user may not enter).
    public static func requireExisting(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) != 0 else { return }
        let code = errno
        if code == ENOENT { throw BotrixStoreError.missing(path: path) }
        let (cause, fix) = BotrixStoreError.explanation(code)
        throw BotrixStoreError.cannotOpen(path: path, cause: cause, fix: fix)
    }

    /// Starts the single writer for this store (servers and benchmarks; readers need none).
    public func makeWriter(
        onBatch: @escaping @Sendable (GroupCommitWriter.BatchReport) -> Void = { _ in }
    ) -> GroupCommitWriter {
        GroupCommitWriter(log: log, options: .init(maximumQueued: writerQueueLimit), onBatch: onBatch)
    }
}

/// Why a store could not be opened: always one line with the file, the cause and the fix.
public enum BotrixStoreError: Error, CustomStringConvertible {
    case missing(path: String)
    case cannotOpen(path: String, cause: String, fix: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no Botrix data at \(path): check --db or DB_PATH (a server creates the file on first start)"
        case .cannotOpen(let path, let cause, let fix):
            return "cannot open \(path): \(cause); \(fix)"
        }
    }

    /// Turns a failure of opening `path` into a sentence an operator can act on.
    static func explaining(_ error: any Error, path: String) -> any Error {
        switch error {
        case LMDBError.lmdb(let code, _):
            let (cause, fix) = explanation(code)
            return cannotOpen(path: path, cause: cause, fix: fix)
        case LMDBError.truncated(_, let bytes, let expected):
            return cannotOpen(
                path: path, cause: "it is \(bytes) bytes but its header counts \(expected): it was truncated",
                fix: "restore a backup (`botrix backup` makes verified copies)")
        case LMDBError.missingDatabase(let name, _):
            return cannotOpen(
                path: path, cause: "it is an LMDB file without Botrix's \"\(name)\" database",
                fix: "check --db / DB_PATH; a Botrix file is made by `botrix serve`")
        case LMDBError.alreadyOpen:
            return error  // a programming error, and callers that wait for a close recognise it
        case EventLogError.unsupportedLogFormat(let found, let supported):
            return cannotOpen(
                path: path,
                cause: "it was written by a newer Botrix (log format \(found); this build reads \(supported))",
                fix: "run the Botrix version that wrote it, or upgrade this one")
        default:
            return cannotOpen(path: path, cause: "\(error)", fix: "check the path and the file")
        }
    }

    static func explanation(_ code: Int32) -> (cause: String, fix: String) {
        switch code {
        case 13, 1:
            ("permission denied", "run as the owner of the file and its folder, or fix their modes (ls -l)")
        case 2: ("a folder on the path does not exist", "check --db / DB_PATH")
        case 20: ("a part of the path is not a folder", "check --db / DB_PATH")
        case 21:
            (
                "it (or its -lock file) is a folder, not a file",
                "point --db / DB_PATH at a data file, and make sure PATH-lock is not a folder"
            )
        case 28, 122: ("the disk is full", "free space on its file system and start again")
        case 30: ("the file system is read-only", "use a writable location, or a read-only command")
        case -30793:  // MDB_INVALID
            ("it is not an LMDB data file (or its header is damaged)", "check --db / DB_PATH, or restore a backup")
        case -30794:  // MDB_VERSION_MISMATCH
            ("it was made by an incompatible LMDB version", "open it with the LMDB version that made it")
        case -30796, -30797, -30795:  // MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_PANIC
            ("the file is damaged", "restore a backup and run `botrix verify` on it")
        default:
            ("LMDB error \(code) (\(String(cString: strerror(code))))", "check the file and the disk")
        }
    }
}
