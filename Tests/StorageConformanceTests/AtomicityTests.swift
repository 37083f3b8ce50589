import Storage
import TestSupport
import Testing

/// A write transaction commits whole or not at all, whichever backend runs it.
@Suite("Storage conformance: atomic batches")
struct AtomicityTests {
    @Test("every put and delete of one write commits together, across databases", arguments: Backend.all)
    func atomicBatch(backend: Backend) throws {
        let folder = TemporaryFolder("storage-atomic")
        let engine = try backend.fresh(in: folder)
        let left = try engine.database("left")
        let right = try engine.database("right")
        try engine.write { txn throws in
            for n in 0..<200 as Range<UInt64> { try txn.put(left, key(n), Array("l\(n)".utf8)) }
        }
        try engine.write { txn throws in
            for n in 0..<200 as Range<UInt64> {
                try txn.put(right, key(n), Array("r\(n)".utf8))
                #expect(try txn.delete(left, key(n)))
            }
        }
        try engine.read { txn throws in
            #expect(try txn.count(left) == 0)
            #expect(try txn.count(right) == 200)
            #expect(try txn.get(right, key(199)) == Array("r199".utf8))
        }
    }

    @Test("a write that throws leaves nothing of itself, and the next write works", arguments: Backend.all)
    func rollbackOnThrow(backend: Backend) throws {
        let folder = TemporaryFolder("storage-rollback")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn in try txn.put(table, key(1), [1]) }
        #expect(throws: Abandon.self) {
            try engine.write { txn throws in
                try txn.put(table, key(1), [9])
                for n in 2..<500 as Range<UInt64> { try txn.put(table, key(n), [2]) }
                try txn.clear(table)
                try txn.put(table, key(7), [7])
                throw Abandon()
            }
        }
        try engine.read { txn throws in
            #expect(try entries(table, in: txn).map(\.key) == [key(1)])
            #expect(try txn.get(table, key(1)) == [1])
        }
        try engine.write { txn in try txn.put(table, key(2), [2]) }
        #expect(try engine.read { try $0.count(table) } == 2)
    }

    @Test("a nested transaction that throws undoes only its own writes", arguments: Backend.all)
    func nestedRollback(backend: Backend) throws {
        let folder = TemporaryFolder("storage-nested")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn throws in
            try txn.put(table, key(1), [1])
            _ = try? txn.nested { child throws in
                try child.put(table, key(2), [2])
                try child.put(table, key(1), [9])
                throw Abandon()
            }
            try txn.nested { child in try child.put(table, key(3), [3]) }
            // The parent sees its own writes and the committed child's, not the abandoned one's.
            #expect(try txn.get(table, key(1)) == [1])
            #expect(try txn.get(table, key(2)) == nil)
            #expect(try txn.get(table, key(3)) == [3])
        }
        try engine.read { txn throws in
            #expect(try entries(table, in: txn).map(\.key) == [key(1), key(3)])
        }
    }

    @Test(
        "put options: no-overwrite refuses an existing key, append refuses a key out of order", arguments: Backend.all)
    func putOptions(backend: Backend) throws {
        let folder = TemporaryFolder("storage-put")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn throws in
            try txn.put(table, key(5), [5], options: .append)
            try txn.put(table, key(6), [6], options: .append)
        }
        #expect(throws: (any Error).self) {
            try engine.write { txn in try txn.put(table, key(5), [0], options: .noOverwrite) }
        }
        #expect(throws: (any Error).self) {
            try engine.write { txn in try txn.put(table, key(1), [1], options: .append) }
        }
        try engine.write { txn in try txn.put(table, key(7), [7], options: .noOverwrite) }
        try engine.read { txn throws in
            #expect(try entries(table, in: txn).map(\.value) == [[5], [6], [7]])
        }
    }

    @Test("keys of 1 to maximumKeySize bytes work; empty and longer keys are refused", arguments: Backend.all)
    func keySizes(backend: Backend) throws {
        let folder = TemporaryFolder("storage-keys")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        let longest = [UInt8](repeating: 0xAB, count: maximumKeySize)
        try engine.write { txn throws in
            try txn.put(table, [0], [1])
            try txn.put(table, longest, [2])
        }
        #expect(try engine.read { try $0.get(table, longest) } == [2])
        #expect(throws: (any Error).self) { try engine.write { try $0.put(table, [], [0]) } }
        #expect(throws: (any Error).self) {
            try engine.write { try $0.put(table, longest + [0], [0]) }
        }
        #expect(try engine.read { try $0.count(table) } == 2)
    }

    @Test("a read-only store refuses a database it does not have, as a missing database", arguments: Backend.all)
    func missingDatabase(backend: Backend) throws {
        let folder = TemporaryFolder("storage-missing")
        let path = folder.file("store.mdb")
        do {
            let engine = try backend.open(StorageOptions(path: path, mapSize: 1 << 22))
            _ = try engine.database("present")
        }
        let reader = try retryingWhileOpen { try backend.open(StorageOptions(path: path, readOnly: true)) }
        _ = try reader.database("present", create: false)
        #expect {
            _ = try reader.database("absent", create: false)
        } throws: { error in
            (error as? any StorageError)?.isMissingDatabase == true
        }
    }

    @Test(
        "a full store fails a write as out of space, leaving nothing; write(makingRoom:) grows it to its limit",
        arguments: Backend.all)
    func fullStore(backend: Backend) throws {
        let folder = TemporaryFolder("storage-full")
        let engine = try backend.open(
            StorageOptions(
                path: folder.file("store.mdb"), mapSize: 1 << 17, maximumMapSize: 1 << 20, durability: .nosync))
        let table = try engine.database("table")
        let value = [UInt8](repeating: 7, count: 4000)
        func fill(_ range: Range<UInt64>) -> (any WriteTransaction) throws -> Void {
            { txn in for n in range { try txn.put(table, key(n), value) } }
        }
        let outOfSpace: (any Error) -> Bool = { ($0 as? any StorageError)?.isOutOfSpace == true }
        // About 400 KB does not fit in 128 KiB: refused whole, as out of space.
        #expect(performing: { try engine.write(fill(0..<100)) }, throws: outOfSpace)
        #expect(try engine.read { try $0.count(table) } == 0)
        // Allowed to make room, the store grows (up to 1 MiB) and takes it.
        try engine.write(makingRoom: 8, fill(0..<100))
        #expect(try engine.read { try $0.count(table) } == 100)
        // Beyond the limit: out of space again, and what was there stays.
        #expect(performing: { try engine.write(makingRoom: 8, fill(100..<500)) }, throws: outOfSpace)
        #expect(try engine.read { try $0.count(table) } == 100)
        try engine.write { txn in try txn.put(table, key(1000), [1]) }
    }
}
