import CLMDB
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// Checks made when a file opens, so that a full disk or a cut file is an error, not a
/// SIGBUS later.
extension Environment {
    /// LMDB sizes its lock file with `ftruncate` (leaving holes) and then writes reader
    /// slots through a shared map: on a full file system the first write into a hole kills
    /// the process with SIGBUS. Allocating the whole file first turns that into ENOSPC here.
    /// A file that cannot be opened is left to LMDB, which reports it properly.
    static func reserveLockFile(of path: String, readers: Int) throws {
        let lockPath = path + "-lock"
        let descriptor = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        // A reader slot is one 64-byte cache line; the header is under 8 KiB.
        let code = posix_fallocate(descriptor, 0, off_t(readers * 64 + 8192))
        if code == ENOSPC || code == EDQUOT {
            throw LMDBError.lmdb(code: code, operation: "reserve space for the lock file \(lockPath)")
        }
    }

    /// Refuses a data file with more than one name. Symbolic links are resolved before this
    /// (``DataFilePath/canonical(_:)``), but a hard link is a second real path: LMDB makes
    /// its lock file beside the name it is given, so a server on one name and a command on
    /// the other each kept a lock table of their own, and writes of both corrupted the file
    /// (a review reproduced it: a crashed server, acknowledged writes lost). A file not made
    /// yet has one name.
    static func checkSingleName(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink > 1 else { return }
        throw LMDBError.severalNames(path: path, links: Int(info.st_nlink))
    }

    /// A file shorter than the pages its meta page counts was truncated (an interrupted
    /// copy) unless every missing page is free (LMDB does not write a page a transaction
    /// allocated and freed again; see ``FreePages``). Reading a missing page of the tree
    /// through the map would kill the process with SIGBUS, so such a file is refused here.
    static func checkLength(of env: OpaquePointer, path: String) throws {
        var envInfo = MDB_envinfo()
        mdb_env_info(env, &envInfo)
        var pages = MDB_stat()
        mdb_env_stat(env, &pages)
        var fileStat = stat()
        guard stat(path, &fileStat) == 0 else { return }
        // A damaged header can count any number of pages: one that overflows is refused.
        let counted = envInfo.me_last_pgno.addingReportingOverflow(1)
        let product = counted.partialValue.multipliedReportingOverflow(by: Int(pages.ms_psize))
        let expected = envInfo.me_last_pgno < 0 || counted.overflow || product.overflow ? Int.max : product.partialValue
        if Int(fileStat.st_size) < expected && !FreePages.coverMissingTail(of: path, fileBytes: Int(fileStat.st_size)) {
            throw LMDBError.truncated(path: path, bytes: Int(fileStat.st_size), expected: expected)
        }
    }
}
