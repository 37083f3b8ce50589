import CLMDB
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// Writing through the memory map (``StorageOptions/writesThroughMap``, LMDB's
/// `MDB_WRITEMAP`) for a throwaway store filled in bulk: where it is allowed, the disk it
/// reserves ahead so that a full disk is an error rather than SIGBUS, and giving the unused
/// part back once writing is over.
extension Environment {
    /// Whether pages are stored straight into the map (never for a read-only open).
    var writesThroughMap: Bool { configuration.writesThroughMap && !configuration.readOnly }

    /// The data file's descriptor, which LMDB owns.
    static func fileDescriptor(of env: OpaquePointer, path: String) throws -> Int32 {
        var descriptor: Int32 = -1
        try check(mdb_env_get_fd(env, &descriptor), "find the file of \(path)")
        return descriptor
    }

    /// File systems on which a block allocated ahead (`posix_fallocate`) stays writable
    /// whatever fills the disk later: ext2/3/4, XFS and tmpfs. On copy-on-write file
    /// systems (btrfs, ZFS) a store into an allocated page still needs new space, so a disk
    /// filled by something else kills a process writing through its map with SIGBUS; an
    /// unknown file system is treated as one of those.
    static let reservingFileSystems: Set<Int> = [0xEF53, 0x5846_5342, 0x0102_1994]

    /// Refuses to write through the map of a file in a folder whose file system does not
    /// keep allocated blocks writable (see ``reservingFileSystems``).
    static func checkReservesAhead(folderOf path: String) throws {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let type = botrix_filesystem_type(folder.isEmpty ? "/" : folder)
        guard reservingFileSystems.contains(type) else {
            throw LMDBError.lmdb(
                code: EOPNOTSUPP,
                operation:
                    "write through the map of \(path): its file system (type 0x\(String(type, radix: 16))) may need new "
                    + "space for pages allocated ahead; only ext4, XFS and tmpfs are known not to")
        }
    }

    /// With `MDB_WRITEMAP` LMDB sizes the data file to the map with `ftruncate`, leaving a
    /// hole, and writes pages by storing into the map: on a full file system the first store
    /// into the hole kills the process with SIGBUS. Allocating every byte of the map first
    /// (LMDB has no page beyond it) turns that into ENOSPC here, before anything is written.
    /// Called after opening and after every change of the map's size, with `from` the part
    /// already allocated (XFS sets aside room for the whole range asked before skipping
    /// what it holds, so asking again from 0 would need the whole map free).
    static func reserveMap(of env: OpaquePointer, path: String, from: Int = 0) throws {
        var envInfo = MDB_envinfo()
        mdb_env_info(env, &envInfo)
        guard envInfo.me_mapsize > from else { return }
        let descriptor = try fileDescriptor(of: env, path: path)
        let code = posix_fallocate(descriptor, off_t(from), off_t(envInfo.me_mapsize - from))
        guard code == 0 else {
            throw LMDBError.lmdb(
                code: code, operation: "reserve \(envInfo.me_mapsize - from) more bytes of disk for \(path)")
        }
    }

    /// After the map's size changed (held exclusively): a map written through must be
    /// allocated on disk before any write (see ``reserveMap(of:path:)``). When the disk
    /// cannot hold a map this process grew, the map goes back to `previous` (allocated
    /// before; LMDB truncates the file to the map) and the error is thrown. A size another
    /// process chose (`previous` nil) is never shrunk: that process may have written there.
    /// When no shrink is possible the environment refuses every later write rather than
    /// risk a store into a hole.
    func reserveResizedMap(previous: Int?) throws {
        guard writesThroughMap else { return }
        do {
            try Self.reserveMap(of: handle, path: path, from: previous ?? 0)
        } catch {
            let restored = previous.map { mdb_env_set_mapsize(handle, $0) } ?? EINVAL
            if restored != 0 { fatal.withLock { $0 = $0 ?? (error as? LMDBError) } }
            throw error
        }
    }

    /// Refuses every later write and, for a map written through, gives back the disk
    /// allocated beyond the last page in use (punching a hole: reads of the pages in use
    /// are unaffected, and no page beyond them is stored into again). Waits for a write
    /// in progress in this process to end.
    public func finishWriting() throws {
        try mapLock.withExclusive { () in
            writingFinished.store(true, ordering: .releasing)
            guard writesThroughMap else { return }
            let info = unlockedInfo
            let used = info.usedBytes
            guard info.mapSize > used else { return }
            let descriptor = try Self.fileDescriptor(of: handle, path: path)
            let code = botrix_punch_hole(descriptor, off_t(used), off_t(info.mapSize - used))
            guard code == 0 else {
                throw LMDBError.lmdb(code: code, operation: "give back the unused space of \(path)")
            }
        }
    }
}
