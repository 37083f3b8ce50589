import LMDB
import Storage
import TestSupport
import Testing

@Suite("Cursor and big-endian keys")
struct CursorTests {
    @Test("big-endian keys iterate in numeric order and seek finds neighbours")
    func orderAndSeek() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("numbers")
        let numbers: [UInt64] = [300, 1, 256, 70_000, 2, 1 << 40].shuffled()
        try env.write { (txn) throws in
            for n in numbers { try txn.put(db, BigEndian.bytes(n), BigEndian.bytes(n * 2)) }
        }
        try env.read { (txn) throws in
            try txn.withCursor(db) { cursor in
                var seen: [UInt64] = []
                var entry = try cursor.first()
                while let e = entry {
                    seen.append(BigEndian.uint64(e.key)!)
                    #expect(BigEndian.uint64(e.value) == BigEndian.uint64(e.key)! * 2)
                    entry = try cursor.next()
                }
                #expect(seen == numbers.sorted())
                #expect(try cursor.seek(atLeast: BigEndian.bytes(257)).map { BigEndian.uint64($0.key) } == 300)
                #expect(try cursor.seek(atMost: BigEndian.bytes(257)).map { BigEndian.uint64($0.key) } == 256)
                #expect(try cursor.seek(atMost: BigEndian.bytes(300)).map { BigEndian.uint64($0.key) } == 300)
                #expect(try cursor.seek(atMost: BigEndian.bytes(.max)).map { BigEndian.uint64($0.key) } == 1 << 40)
                #expect(try cursor.seek(atLeast: BigEndian.bytes(.max)) == nil)
                #expect(try cursor.last().map { BigEndian.uint64($0.key) } == 1 << 40)
            }
        }
    }

    @Test("append mode refuses a key that is not the largest")
    func appendOrder() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let db = try env.database("log")
        try env.write { (txn) throws in
            try txn.put(db, BigEndian.bytes(1), [1], options: .append)
            try txn.put(db, BigEndian.bytes(2), [2], options: .append)
        }
        #expect(throws: LMDBError.self) {
            try env.write { try $0.put(db, BigEndian.bytes(1), [3], options: .append) }
        }
        #expect(BigEndian.uint64(BigEndian.bytes(0x0102_0304_0506_0708)) == 0x0102_0304_0506_0708)
        #expect(BigEndian.bytes(1) == [0, 0, 0, 0, 0, 0, 0, 1])
    }
}
