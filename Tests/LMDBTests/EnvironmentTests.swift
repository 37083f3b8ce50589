import Foundation
import LMDB
import Storage
import TestSupport
import Testing

@Suite("Environment")
struct EnvironmentTests {
    @Test("a value put in a committed write is read back; an uncommitted one is not")
    func roundTripAndRollback() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        try env.write { try $0.put(db, Array("a".utf8), [1, 2, 3]) }
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try env.write { (txn) throws in
                try txn.put(db, Array("b".utf8), [9])
                throw Abort()
            }
        }
        try env.read { (txn) throws in
            #expect(try txn.get(db, Array("a".utf8)) == [1, 2, 3])
            #expect(try txn.get(db, Array("b".utf8)) == nil)
            #expect(try txn.count(db) == 1)
        }
        try env.write { (txn) throws in #expect(try txn.delete(db, Array("a".utf8))) }
        try env.read { (txn) throws in #expect(try txn.get(db, Array("a".utf8)) == nil) }
    }

    @Test("a nested transaction that throws leaves its parent's writes intact")
    func nestedRollback() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        struct Rejected: Error {}
        try env.write { (txn) throws in
            try txn.put(db, [1], [1])
            try? txn.nested { child in
                try child.put(db, [2], [2])
                throw Rejected()
            }
            try txn.nested { child in try child.put(db, [3], [3]) }
        }
        try env.read { (txn) throws in
            #expect(try txn.get(db, [1]) == [1])
            #expect(try txn.get(db, [2]) == nil)
            #expect(try txn.get(db, [3]) == [3])
        }
    }

    @Test("the same file cannot be opened twice in one process, and can again once closed")
    func oneEnvironmentPerFile() throws {
        let folder = TemporaryFolder()
        var first: Environment? = try folder.environment()
        #expect(first != nil)
        #expect {
            _ = try folder.environment()
        } throws: { error in
            if case .alreadyOpen = error as? LMDBError { return true }
            return false
        }
        first = nil
        _ = try folder.environment()
    }

    @Test("a file opened through a link to where it is not made yet has one name and one lock file, at the target")
    func linkToAFileNotMadeYet() throws {
        let folder = TemporaryFolder()
        let links = folder.file("links")
        try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
        // A relative target, then a link to that link: both are followed.
        #expect(symlink("../data.mdb", links + "/first.mdb") == 0)
        #expect(symlink(links + "/first.mdb", links + "/second.mdb") == 0)
        let env = try folder.environment("links/second.mdb")
        let real = try #require(
            realpath(folder.path, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer) + "/data.mdb"
            })
        #expect(env.path == real)
        #expect(FileManager.default.fileExists(atPath: real + "-lock"))
        #expect(!FileManager.default.fileExists(atPath: links + "/second.mdb-lock"))
        #expect {
            _ = try folder.environment("data.mdb")
        } throws: { error in
            if case .alreadyOpen = error as? LMDBError { return true }
            return false
        }
    }

    @Test("a data file with a second name (a hard link) is refused by either name, and opens once it has one")
    func secondNameRefused() throws {
        let folder = TemporaryFolder()
        do { _ = try folder.environment("data.mdb") }
        #expect(link(folder.file("data.mdb"), folder.file("other.mdb")) == 0)
        for name in ["data.mdb", "other.mdb"] {
            #expect {
                _ = try folder.environment(name)
            } throws: { error in
                if case .severalNames(_, 2) = error as? LMDBError { return true }
                return false
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("other.mdb-lock")), "refused before LMDB")
        #expect(unlink(folder.file("other.mdb")) == 0)
        _ = try folder.environment("data.mdb")
    }

    @Test("empty and oversized keys are refused with a typed error")
    func invalidKeys() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        for key in [[UInt8](), [UInt8](repeating: 7, count: 512)] {
            #expect(throws: LMDBError.invalidKey(length: key.count, maximum: 511)) {
                try env.write { try $0.put(db, key, [1]) }
            }
        }
    }

    @Test("the map grows when full, and a full map at its maximum fails without writing")
    func mapGrowth() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment(mapSize: 1 << 18, maximumMapSize: 1 << 24)
        let db = try env.database("things")
        let value = [UInt8](repeating: 0xAB, count: 2000)
        for round in 0..<8 {
            try env.write(makingRoom: 8) { (txn) throws in
                for i in 0..<200 { try txn.put(db, BigEndian.bytes(UInt64(round * 200 + i)), value) }
            }
        }
        #expect(env.info.mapSize > 1 << 18)
        try env.read { (txn) throws in #expect(try txn.count(db) == 1600) }

        let small = try folder.environment("small.mdb", mapSize: 1 << 17, maximumMapSize: 1 << 17)
        let sdb = try small.database("things")
        #expect {
            try small.write(makingRoom: 4) { (txn) throws in
                for i in 0..<400 { try txn.put(sdb, BigEndian.bytes(UInt64(i)), value) }
            }
        } throws: { ($0 as? LMDBError)?.isMapFull == true }
        try small.read { (txn) throws in #expect(try txn.count(sdb) == 0) }
    }

    @Test("many tasks read concurrently while a writer commits")
    func concurrentReaders() async throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("counter")
        try env.write { try $0.put(db, [0], BigEndian.bytes(0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for n in 1...200 { try env.write { try $0.put(db, [0], BigEndian.bytes(UInt64(n))) } }
            }
            for _ in 0..<8 {
                group.addTask {
                    var last: UInt64 = 0
                    for _ in 0..<200 {
                        let now = try env.read { BigEndian.uint64(try $0.get(db, [0]) ?? []) ?? 0 }
                        #expect(now >= last)  // snapshots never go backwards
                        last = now
                    }
                }
            }
            try await group.waitForAll()
        }
        try env.read { (txn) throws in #expect(BigEndian.uint64(try txn.get(db, [0]) ?? []) == 200) }
    }
}
