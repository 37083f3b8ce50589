import LMDB
import Storage
import TestSupport
import Testing

/// Every LMDB call that ends or may end a transaction, made to fail: the process stays
/// alive, nothing of the failed transaction remains, and the environment keeps working.
/// A wrapper that aborted a transaction LMDB had already freed (the old bug after a failed
/// commit) corrupts LMDB's reused top-level transaction: the loops below then crash or
/// fail within a few rounds.
@Suite("Failure paths")
struct FailurePathTests {
    @Test("a failed commit leaves nothing, and the next hundreds of writes work")
    func failedCommits() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        for round in 0..<300 {
            env.faults.arm(.commit, code: 28)  // ENOSPC
            #expect {
                try env.write { try $0.put(db, [UInt8(round % 256), 1], Array(repeating: 7, count: 2000)) }
            } throws: { ($0 as? LMDBError)?.isOutOfSpace == true }
            try env.write { try $0.put(db, [UInt8(round % 256), 2], [UInt8(round % 256)]) }
        }
        try env.read { (txn) throws in
            #expect(try txn.count(db) == 256)
            #expect(try txn.get(db, [5, 1]) == nil)
            #expect(try txn.get(db, [5, 2]) == [5])
        }
    }

    @Test("a failed nested commit is reported, the parent can still be aborted, the file stays usable")
    func failedNestedCommits() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        for round in 0..<200 {
            env.faults.arm(.nestedCommit)
            #expect(throws: LMDBError.self) {
                try env.write { txn in
                    try txn.put(db, [1], [UInt8(round % 256)])
                    try txn.nested { try $0.put(db, [2], [1]) }
                }
            }
            try env.write { txn in try txn.nested { try $0.put(db, [3], [UInt8(round % 256)]) } }
        }
        try env.read { (txn) throws in
            #expect(try txn.get(db, [1]) == nil)
            #expect(try txn.get(db, [2]) == nil)
            #expect(try txn.get(db, [3]) == [199])
        }
    }

    @Test("a failed put or delete aborts its transaction only")
    func failedPuts() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        try env.write { try $0.put(db, [9], [9]) }
        for skips in 0..<5 {
            env.faults.arm(.put, after: skips)
            #expect(throws: LMDBError.self) {
                try env.write { txn in for n in 0..<10 { try txn.put(db, [UInt8(n)], [1]) } }
            }
            env.faults.arm(.delete, after: 0)
            #expect(throws: LMDBError.self) { try env.write { try $0.delete(db, [9]) } }
        }
        try env.read { (txn) throws in
            #expect(try txn.count(db) == 1)
            #expect(try txn.get(db, [9]) == [9])
        }
    }

    @Test("a failed database open leaves no handle behind; opening again works")
    func failedDatabaseOpen() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        env.faults.arm(.databaseOpen)
        #expect(throws: LMDBError.self) { try env.database("later") }
        let db = try env.database("later")
        try env.write { try $0.put(db, [1], [1]) }
        try env.read { (txn) throws in #expect(try txn.get(db, [1]) == [1]) }
    }

    @Test("a map full at its maximum is out of space, not a crash; raising nothing, reads still work")
    func mapAtMaximum() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment(mapSize: 1 << 20, maximumMapSize: 1 << 21)
        let db = try env.database("things")
        var stored = 0
        var outOfSpace = 0
        for n in 0..<2000 {
            do {
                try env.write(makingRoom: 4) { txn in
                    try txn.put(db, Array("k\(n)".utf8), Array(repeating: UInt8(n % 256), count: 3000))
                }
                stored += 1
            } catch let error as LMDBError {
                #expect(error.isOutOfSpace, "\(error)")
                outOfSpace += 1
            }
        }
        #expect(outOfSpace > 0)
        #expect(stored > 100)
        #expect(env.info.mapSize == 1 << 21)
        try env.read { (txn) throws in #expect(try txn.count(db) == stored) }
        // Space freed (a delete needs a little room for its own copy-on-write pages, so it
        // goes in small steps): the same map accepts writes again.
        var deleted = 0
        for n in 0..<stored where deleted < 200 {
            if (try? env.write { try $0.delete(db, Array("k\(n)".utf8)) }) != nil { deleted += 1 }
        }
        #expect(deleted > 0)
        try env.write { try $0.put(db, Array("again".utf8), Array(repeating: 1, count: 3000)) }
    }

    @Test("a reader left by a killed process is cleared, and reported while open")
    func staleReaders() throws {
        guard let helper = builtExecutable("CrashWriter") else {
            Issue.record("CrashWriter is not built: run swift build --build-tests")
            return
        }
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("things")
        try env.write { try $0.put(db, [1], [1]) }
        let holder = try HeldReader(helper: helper, path: folder.file("data.mdb"))
        for n in 0..<5 { try env.write { try $0.put(db, [UInt8(n + 2)], [1]) } }
        let open = env.readers()
        #expect(open.active == 1)
        #expect(open.oldestLag >= 5)
        #expect(try env.clearStaleReaders() == 0)  // alive: not stale
        holder.kill()
        #expect(try env.clearStaleReaders() == 1)
        #expect(env.readers().active == 0)
    }
}
