import EventLog
import Foundation
import Storage
import TestSupport
import Testing

@testable import Botrix
@testable import BotrixBench

#if canImport(Glibc)
    import Glibc
#endif

/// A backup is compact: its projections, rebuilt in the copy, leave few free pages behind.
@Suite("Backup size")
struct BackupSizeTests {
    @Test("a backup's copy is nearly all live pages, and no bigger than its source")
    func copyIsCompact() throws {
        let folder = TemporaryFolder()
        let source = folder.file("source.mdb")
        let destination = folder.file("copy.mdb")
        let store = try BotrixStore(.init(path: source, mapSize: 1 << 30, durability: .nosync))
        _ = try SyntheticLog.write(events: 60_000, into: store.log)
        _ = try Projections(store: store).rebuild(log: store.log)
        _ = try store.backup(to: destination)
        let copy = try BotrixStore(.init(path: destination, readOnly: true))
        let live = try Self.livePages(copy.environment)
        let used = copy.environment.figures.usedBytes
        // What is neither a table's page nor one of LMDB's own (meta pages, the free list).
        let free = Double(used - live) / Double(used)
        #expect(free < 0.1, "\(Int(free * 100))% of the copy's \(used) bytes are free pages")
        #expect(used <= store.environment.figures.usedBytes)
        let mode = try FileManager.default.attributesOfItem(atPath: destination)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the copy is readable by others: \(String(mode ?? 0, radix: 8))")
        for leftover in [destination + ".partial", destination + ".partial-lock"] {
            #expect(!FileManager.default.fileExists(atPath: leftover), "\(leftover) was left behind")
        }
    }

    @Test("a DEST.partial held by a running backup, or left by a stopped one, is refused and kept")
    func partialClaimed() throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("source.mdb"), mapSize: 1 << 24, durability: .nosync))
        let destination = folder.file("copy.mdb")
        do {
            let owned = OwnedFiles()
            let running = try BackupFiles.claim(destination, owned: owned)  // another backup, still running
            #expect(throws: BackupFailure.self) { try store.backup(to: destination) }
            #expect(!FileManager.default.fileExists(atPath: destination))
            var isFolder: ObjCBool = false
            #expect(
                FileManager.default.fileExists(atPath: running.folder, isDirectory: &isFolder) && isFolder.boolValue)
            let mode = try FileManager.default.attributesOfItem(atPath: running.folder)[.posixPermissions] as? Int
            #expect(mode == 0o700, "the backup's folder is open to others: \(String(mode ?? 0, radix: 8))")
            owned.removeAll()
        }
        // What a killed backup leaves, or a file someone named so: never emptied nor removed.
        let left = Data(count: 12_345)
        #expect(FileManager.default.createFile(atPath: destination + ".partial", contents: left))
        #expect(throws: BackupFailure.self) { try store.backup(to: destination) }
        #expect(FileManager.default.contents(atPath: destination + ".partial") == left)
        try FileManager.default.removeItem(atPath: destination + ".partial")
        _ = try store.backup(to: destination)
        let copy = try BotrixStore(.init(path: destination, readOnly: true))
        #expect(try copy.log.verify().isIntact)
        #expect(!FileManager.default.fileExists(atPath: destination + ".partial"))
    }

    @Test("a DEST.partial that is a link is refused, and nothing it names is touched")
    func foreignFilesRefused() throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("source.mdb"), mapSize: 1 << 24, durability: .nosync))
        let victim = folder.file("victim")
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: false)
        let precious = Data("another program's data".utf8)
        #expect(FileManager.default.createFile(atPath: victim + "/work.mdb", contents: precious))
        let destination = folder.file("copy.mdb")
        // A symbolic link to a folder: the copy would be built in it.
        try FileManager.default.createSymbolicLink(atPath: destination + ".partial", withDestinationPath: victim)
        #expect(throws: BackupFailure.self) { try store.backup(to: destination) }
        #expect(FileManager.default.contents(atPath: victim + "/work.mdb") == precious)
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim) == ["work.mdb"])
        #expect(!FileManager.default.fileExists(atPath: destination))
    }

    @Test(
        "a backup that fails while building (a full disk) leaves nothing; one into a folder others can rename in is refused"
    )
    func failuresLeaveNothing() throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("source.mdb"), mapSize: 1 << 30, durability: .nosync))
        _ = try SyntheticLog.write(events: 60_000, into: store.log)
        let disk = try SmallDisk(bytes: 4 << 20)
        defer { disk.unmount() }
        #expect(throws: (any Error).self) { try store.backup(to: disk.file("copy.mdb")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path) == [])
        // A folder anyone may rename in: another user could swap the backup's folder for theirs.
        let shared = folder.file("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        chmod(shared, 0o777)
        #expect(throws: BackupFailure.self) { try store.backup(to: shared + "/copy.mdb") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: shared) == [])
        // A folder of this user's inside it: the shared one above could swap it whole.
        let inner = shared + "/mine"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: false)
        #expect(throws: BackupFailure.self) { try store.backup(to: inner + "/copy.mdb") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: inner) == [])
        try FileManager.default.removeItem(atPath: inner)
        // `safe/lnk/..` is `shared` to the kernel (it follows `lnk` first), not `safe`.
        let safe = folder.file("safe")
        try FileManager.default.createDirectory(atPath: shared + "/deep", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: safe, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: safe + "/lnk", withDestinationPath: shared + "/deep")
        #expect(throws: BackupFailure.self) { try store.backup(to: safe + "/lnk/../copy.mdb") }
        #expect(!FileManager.default.fileExists(atPath: shared + "/copy.mdb"))
        try FileManager.default.removeItem(atPath: shared + "/deep")
        chmod(shared, 0o1777)  // sticky, as /tmp: only the owner of an entry may rename it
        _ = try store.backup(to: shared + "/copy.mdb")
        #expect(try FileManager.default.contentsOfDirectory(atPath: shared) == ["copy.mdb"])
    }

    /// Bytes of every table's pages.
    static func livePages(_ environment: any StorageEngine) throws -> Int {
        let databases = try environment.databaseNames().map { try environment.database($0, create: false) }
        return try environment.read { txn in try databases.reduce(0) { $0 + (try txn.storedBytes($1)) } }
    }
}
