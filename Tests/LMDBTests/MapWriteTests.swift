import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A store written through its memory map (`writesThroughMap`, LMDB's `MDB_WRITEMAP`)
/// stores pages straight into a file LMDB sized with a hole: a store into the hole on a
/// full disk would kill the process with SIGBUS. These tests fill real small disks and
/// check that every way to run out of room is an error the caller can handle.
@Suite("Writes through the map", .serialized)
struct MapWriteTests {
    static func options(_ path: String, mapSize: Int) -> StorageOptions {
        StorageOptions(
            path: path, mapSize: mapSize, maximumMapSize: 1 << 30, durability: .nosync, writesThroughMap: true)
    }

    static func key(_ n: Int) -> [UInt8] { Array(String(format: "row-%06d", n).utf8) }
    static func value(_ n: Int) -> [UInt8] { [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: 3000) }

    /// Bytes of disk the file really holds (not its length, which LMDB sets to the map's).
    static func allocated(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_blocks) * 512 : -1
    }

    @Test("the whole map is on disk before the first write, and what is written reads back after a reopen")
    func allocatesTheMap() throws {
        let folder = TemporaryFolder()
        let path = folder.file("mapped.mdb")
        do {
            let environment = try Environment(Self.options(path, mapSize: 8 << 20))
            #expect(Self.allocated(path) >= 8 << 20, "the map's pages are not allocated")
            let rows = try environment.database("rows")
            try environment.write { txn in for n in 0..<500 { try txn.put(rows, Self.key(n), Self.value(n)) } }
        }
        // Opened again the ordinary way (write calls, no map writes): every row is there.
        let reopened = try Environment(.init(path: path, mapSize: 8 << 20, durability: .nosync))
        let rows = try reopened.database("rows")
        try reopened.read { (txn) throws in
            for n in 0..<500 { #expect(try txn.get(rows, Self.key(n)) == Self.value(n)) }
        }
    }

    @Test("a map the disk cannot hold is refused as out of space when the file opens")
    func mapTooBigForTheDisk() throws {
        let disk = try SmallDisk(bytes: 4 << 20)
        defer { disk.unmount() }
        do {
            _ = try Environment(Self.options(disk.file("big.mdb"), mapSize: 16 << 20))
            Issue.record("a 16 MiB map opened on a 4 MiB disk: its first writes would end in SIGBUS")
        } catch let error as LMDBError {
            #expect(error.isOutOfSpace, "\(error)")
        }
    }

    @Test("a map that cannot grow on a full disk stays at its size, refuses with ENOSPC, and grows once room is freed")
    func growthOnAFullDisk() throws {
        let disk = try SmallDisk(bytes: 24 << 20)
        defer { disk.unmount() }
        // 12 MiB of the 24 to give back later.
        try Data(repeating: 1, count: 12 << 20).write(to: URL(fileURLWithPath: disk.file("filler")))
        let environment = try Environment(Self.options(disk.file("grow.mdb"), mapSize: 4 << 20))
        let rows = try environment.database("rows")
        var written = 0
        var refusal: LMDBError?
        // Fills the 4 MiB map; growing it by 16 MiB cannot be allocated in the 8 MiB left.
        func fill(upTo limit: Int) {
            while written < limit {
                do {
                    try environment.write(makingRoom: 2) { txn in
                        try txn.put(rows, Self.key(written), Self.value(written))
                    }
                    written += 1
                } catch let error as LMDBError {
                    refusal = error
                    return
                } catch {
                    Issue.record("unexpected \(error)")
                    return
                }
            }
        }
        fill(upTo: 4000)
        #expect(refusal?.code == ENOSPC, "\(String(describing: refusal))")
        #expect(environment.info.mapSize == 4 << 20, "the map kept a size the disk does not hold")
        #expect(environment.fatalError == nil)
        #expect(written > 100)
        try environment.read { (txn) throws in
            for n in 0..<written { #expect(try txn.get(rows, Self.key(n)) == Self.value(n)) }
        }
        // Room freed: the same write now grows the map and commits.
        try FileManager.default.removeItem(atPath: disk.file("filler"))
        let before = written
        refusal = nil
        fill(upTo: before + 200)
        #expect(refusal == nil, "\(String(describing: refusal))")
        #expect(environment.info.mapSize == 20 << 20)
        #expect(Self.allocated(environment.path) >= 20 << 20)
        try environment.read { (txn) throws in
            for n in 0..<written { #expect(try txn.get(rows, Self.key(n)) == Self.value(n)) }
        }
    }

    @Test("a file system that may need new space for allocated pages (ramfs here) is refused, with why")
    func refusesFileSystemsWithoutReservation() throws {
        let disk = try SmallDisk(bytes: 8 << 20, fileSystem: "ramfs")
        defer { disk.unmount() }
        do {
            _ = try Environment(Self.options(disk.file("ram.mdb"), mapSize: 8 << 20))
            Issue.record("opened for writes through the map on ramfs")
        } catch let error as LMDBError {
            #expect(error.code == EOPNOTSUPP, "\(error)")
            #expect("\(error)".contains("only ext4, XFS and tmpfs"), "\(error)")
        }
        // The ordinary way still opens there.
        _ = try Environment(.init(path: disk.file("plain.mdb"), mapSize: 8 << 20, durability: .nosync))
    }

    @Test("finishing gives back the disk beyond the pages in use, refuses writes, and keeps every row readable")
    func finishWriting() throws {
        let folder = TemporaryFolder()
        let environment = try Environment(Self.options(folder.file("done.mdb"), mapSize: 32 << 20))
        let rows = try environment.database("rows")
        try environment.write { txn in for n in 0..<400 { try txn.put(rows, Self.key(n), Self.value(n)) } }
        #expect(Self.allocated(environment.path) >= 32 << 20)
        try environment.finishWriting()
        let used = environment.info.usedBytes
        #expect(Self.allocated(environment.path) <= used + (64 << 10), "the reserved tail was kept")
        #expect(used > 400 * 3000)
        do {
            try environment.write { txn in try txn.put(rows, Self.key(1), Self.value(9)) }
            Issue.record("a write after finishWriting was accepted")
        } catch let error as LMDBError {
            #expect(error.code == EROFS, "\(error)")
        }
        try environment.read { (txn) throws in
            for n in 0..<400 { #expect(try txn.get(rows, Self.key(n)) == Self.value(n)) }
        }
    }
}

/// A store only this process uses (`singleProcess`: no LMDB lock file) serializes its
/// writes against its reads itself, since LMDB then tracks neither.
@Suite("Single-process stores")
struct SingleProcessTests {
    @Test("no lock file is made, and a read waits for a write in progress to end")
    func noLockFileAndWritesExcludeReads() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("single.mdb")
        let environment = try Environment(
            .init(path: path, mapSize: 8 << 20, durability: .nosync, singleProcess: true))
        #expect(!FileManager.default.fileExists(atPath: path + "-lock"))
        let rows = try environment.database("rows")
        try environment.write { try $0.put(rows, [1], [1]) }
        let order = Mutex<[String]>([])
        let writing = DispatchSemaphore(value: 0)
        let writer = Thread {
            try? environment.write { txn in
                writing.signal()
                Thread.sleep(forTimeInterval: 0.3)
                try txn.put(rows, [1], [2])
                order.withLock { $0.append("write") }
            }
        }
        writer.start()
        writing.wait()
        let seen = try environment.read { try $0.get(rows, [1]) }
        order.withLock { $0.append("read") }
        #expect(order.withLock { $0 } == ["write", "read"], "a read ran beside a write")
        #expect(seen == [2])
    }
}
