import CLMDB
public import Storage

/// Every way the LMDB layer can fail, with what a person needs to act on it.
///
/// LMDB reports failures as integer codes; this type keeps the code (so callers can
/// branch on `isMapFull` or `isNotFound`) and LMDB's own message, and names the
/// operation that failed so a log line says where it happened.
public enum LMDBError: StorageError, Equatable {
    /// LMDB (or the OS beneath it) returned a non-zero code from `operation`.
    case lmdb(code: Int32, operation: String)
    /// The file is already open in this process; LMDB forbids a second environment on it.
    case alreadyOpen(path: String)
    /// The map could not grow because the configured maximum was reached.
    case mapSizeLimit(current: Int, maximum: Int)
    /// A key was empty or longer than LMDB's limit (511 bytes by default).
    case invalidKey(length: Int, maximum: Int)
    /// The file is shorter than the pages its own header counts: it was cut short.
    case truncated(path: String, bytes: Int, expected: Int)
    /// A read-only open asked for a named database the file does not have.
    case missingDatabase(name: String, path: String)
    /// The file has more than one name (hard links): LMDB names its lock table after the
    /// path, so two processes opening it by two names would each keep their own and
    /// corrupt the file.
    case severalNames(path: String, links: Int)

    /// LMDB's numeric code, when the failure came from LMDB or the OS.
    public var code: Int32? {
        if case .lmdb(let code, _) = self { return code }
        return nil
    }

    /// True when the memory map is full; the writer grows the map and retries.
    public var isMapFull: Bool {
        code == MDB_MAP_FULL || { if case .mapSizeLimit = self { return true } else { return false } }()
    }

    /// True when the failure means "no space": the disk (ENOSPC, EDQUOT) or the map at its
    /// configured maximum. Freeing space (or raising the limit) lets writes succeed again.
    public var isOutOfSpace: Bool {
        if case .mapSizeLimit = self { return true }
        return code == 28 || code == 122 || code == MDB_MAP_FULL
    }

    /// True when LMDB gave up on the environment (`MDB_PANIC`, after a failed meta-page
    /// write): every later transaction fails until the process opens the file again.
    public var isFatal: Bool { code == MDB_PANIC }

    /// The failure in a few words, without paths or operation names: safe to show to any
    /// caller (health checks), unlike ``description``.
    public var summary: String {
        switch self {
        case .lmdb(let code, _): String(cString: mdb_strerror(code))
        case .alreadyOpen: "the file is already open in this process"
        case .mapSizeLimit: "the map reached its configured maximum size"
        case .invalidKey: "invalid key"
        case .missingDatabase: "a named database is missing"
        case .truncated: "the file is truncated"
        case .severalNames: "the file has more than one name (hard links)"
        }
    }

    /// True when a read-only open asked for a database the file does not have.
    public var isMissingDatabase: Bool {
        if case .missingDatabase = self { return true }
        return false
    }

    /// True when another process grew the map and this one must adopt the new size.
    public var isMapResized: Bool { code == MDB_MAP_RESIZED }

    public var description: String {
        switch self {
        case .lmdb(let code, let operation):
            let message = String(cString: mdb_strerror(code))
            return "LMDB \(operation) failed: \(message) (code \(code))\(Self.advice(for: code))"
        case .alreadyOpen(let path):
            return
                "the LMDB file \(path) is already open in this process; open one Environment per file and share it"
        case .mapSizeLimit(let current, let maximum):
            return
                "the LMDB map is full at \(current) bytes and may not grow past \(maximum); raise LMDB_MAP_SIZE or free disk space"
        case .invalidKey(let length, let maximum):
            return "LMDB keys must be 1...\(maximum) bytes; this one is \(length)"
        case .truncated(let path, let bytes, let expected):
            return
                "\(path) is \(bytes) bytes but its header counts \(expected): the file was truncated (an interrupted copy?); restore a backup"
        case .missingDatabase(let name, let path):
            return
                "\(path) has no database \"\(name)\": it is not a Botrix data file, or was made by an older build; start `botrix serve` on it once"
        case .severalNames(let path, let links):
            return
                "\(path) has \(links) names (hard links): LMDB keeps a lock table per name, so two processes using two names would corrupt it; remove every other name (`find / -samefile \(path)`), or copy the file instead of linking it"
        }
    }

    private static func advice(for code: Int32) -> String {
        switch code {
        case MDB_MAP_FULL: return "; the map is full: raise LMDB_MAP_SIZE"
        case MDB_READERS_FULL: return "; too many concurrent readers: close idle streams or raise max readers"
        case MDB_INVALID, MDB_VERSION_MISMATCH: return "; the file is not an LMDB environment of this version"
        case MDB_PANIC: return "; LMDB stopped after a fatal error: restart the process, then run `botrix verify`"
        case 122: return "; the disk quota is exhausted: free space and retry"  // EDQUOT
        case 5: return "; an I/O error: check the disk (dmesg) and retry"  // EIO
        case 30: return "; the file system is read-only"  // EROFS
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND: return "; the file is damaged: restore a backup"
        case 28: return "; the disk is full: free space and retry"  // ENOSPC
        case 13: return "; permission denied: check the file's owner and mode"  // EACCES
        case 2: return "; no such file or directory: check the path"  // ENOENT
        default: return ""
        }
    }
}

@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
    if code != 0 { throw LMDBError.lmdb(code: code, operation: operation()) }
}
