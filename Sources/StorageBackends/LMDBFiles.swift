import Foundation
import LMDB
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// What opening an LMDB file needs beyond LMDB itself: refusing files LMDB would misread,
/// and turning its error codes into sentences an operator can act on.
enum LMDBFiles {
    /// Checks and prepares the path before LMDB sees it.
    static func preflight(_ options: StorageOptions) throws {
        let folder = URL(fileURLWithPath: options.path).deletingLastPathComponent().path
        if options.readOnly {
            try Self.requireExisting(options.path)
        } else if !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StorageOpenError.cannotOpen(
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
            throw StorageOpenError.cannotOpen(
                path: options.path, cause: "it is empty (0 bytes), not a Botrix data file",
                fix: "restore a backup, or remove it to start a new store")
        }
    }

    /// Throws ``StorageOpenError/missing(path:)`` when no file is at `path`, or says why
    /// it cannot be seen (a folder on the way the user may not enter).
    static func requireExisting(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) != 0 else { return }
        let code = errno
        if code == ENOENT { throw StorageOpenError.missing(path: path) }
        let (cause, fix) = explanation(code)
        throw StorageOpenError.cannotOpen(path: path, cause: cause, fix: fix)
    }

    /// Turns a failure of opening `path` into a sentence an operator can act on.
    static func explaining(_ error: any Error, path: String) -> any Error {
        typealias E = StorageOpenError
        switch error {
        case LMDBError.lmdb(let code, _):
            let (cause, fix) = explanation(code)
            return E.cannotOpen(path: path, cause: cause, fix: fix)
        case LMDBError.truncated(_, let bytes, let expected):
            return E.cannotOpen(
                path: path, cause: "it is \(bytes) bytes but its header counts \(expected): it was truncated",
                fix: "restore a backup (`botrix backup` makes verified copies)")
        case LMDBError.missingDatabase(let name, _):
            return E.cannotOpen(
                path: path, cause: "it is an LMDB file without Botrix's \"\(name)\" database",
                fix: "check --db / DB_PATH; a Botrix file is made by `botrix serve`")
        case LMDBError.severalNames(_, let links):
            return E.cannotOpen(
                path: path,
                cause: "it has \(links) names (hard links), and LMDB keeps a lock table per name: "
                    + "two processes using two names would corrupt it",
                fix: "remove every other name (`find / -samefile \(path)`), or copy the file instead of linking it")
        case LMDBError.alreadyOpen:
            return error  // a programming error, and callers that wait for a close recognise it
        default:
            return E.cannotOpen(path: path, cause: "\(error)", fix: "check the path and the file")
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
