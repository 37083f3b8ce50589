import CLMDB

/// Every way the LMDB layer can fail, with what a person needs to act on it.
///
/// LMDB reports failures as integer codes; this type keeps the code (so callers can
/// branch on `isMapFull` or `isNotFound`) and LMDB's own message, and names the
/// operation that failed so a log line says where it happened.
public enum LMDBError: Error, Equatable, CustomStringConvertible {
    /// LMDB (or the OS beneath it) returned a non-zero code from `operation`.
    case lmdb(code: Int32, operation: String)
    /// The file is already open in this process; LMDB forbids a second environment on it.
    case alreadyOpen(path: String)
    /// The map could not grow because the configured maximum was reached.
    case mapSizeLimit(current: Int, maximum: Int)
    /// A key was empty or longer than LMDB's limit (511 bytes by default).
    case invalidKey(length: Int, maximum: Int)

    /// LMDB's numeric code, when the failure came from LMDB or the OS.
    public var code: Int32? {
        if case .lmdb(let code, _) = self { return code }
        return nil
    }

    /// True when the memory map is full; the writer grows the map and retries.
    public var isMapFull: Bool {
        code == MDB_MAP_FULL || { if case .mapSizeLimit = self { return true } else { return false } }()
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
        }
    }

    private static func advice(for code: Int32) -> String {
        switch code {
        case MDB_MAP_FULL: return "; the map is full: raise LMDB_MAP_SIZE"
        case MDB_READERS_FULL: return "; too many concurrent readers: close idle streams or raise max readers"
        case MDB_INVALID, MDB_VERSION_MISMATCH: return "; the file is not an LMDB environment of this version"
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
