import LMDB
import Storage
import TestSupport
import Testing

/// The LMDB backend's record of exchanges (`DatabaseMap`) at its edges: handles LMDB numbers
/// last, a child whose commit fails, an exchange of a database with itself.
@Suite("LMDB: where each database's rows are")
struct DatabaseMapTests {
    @Test("databases with LMDB's highest handles exchange, and later transactions read them")
    func highestHandles() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        // The map's own database takes one of the 64; these take the rest, up to handle 65.
        let databases = try (0..<63).map { try env.database("d\($0)") }
        try env.write { txn throws in
            for (n, database) in databases.enumerated() { try txn.put(database, [1], [UInt8(n)]) }
        }
        let (a, b) = (databases[61], databases[62])
        #expect(a.id >= 64 && b.id >= 64, "\(a.id) \(b.id)")
        try env.write { txn throws in try txn.exchange(a, b) }
        try env.read { txn throws in
            #expect(try txn.get(a, [1]) == [62])
            #expect(try txn.get(b, [1]) == [61])
            #expect(try txn.get(databases[0], [1]) == [0])
        }
    }

    @Test("a child transaction whose commit fails leaves its exchange behind")
    func failedChildCommit() throws {
        let folder = TemporaryFolder()
        let env = try folder.environment()
        let a = try env.database("a")
        let b = try env.database("b")
        try env.write { txn throws in
            try txn.put(a, [1], [1])
            try txn.put(b, [1], [2])
        }
        env.faults.arm(.nestedCommit)
        try env.write { txn throws in
            #expect(throws: (any Error).self) { try txn.nested { child in try child.exchange(a, b) } }
            #expect(try txn.get(a, [1]) == [1], "the parent reads the exchanged rows")
            try txn.exchange(a, a)  // nothing to do
            #expect(try txn.get(a, [1]) == [1])
        }
        env.faults.disarm()
        try env.read { txn throws in
            #expect(try txn.get(a, [1]) == [1])
            #expect(try txn.get(b, [1]) == [2])
        }
    }
}
