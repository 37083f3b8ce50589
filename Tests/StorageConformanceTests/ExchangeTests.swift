import Foundation
import Storage
import TestSupport
import Testing

/// `exchange`: two databases trade their rows in one transaction, whatever they hold (an
/// online rebuild's last step), whichever backend runs it.
@Suite("Storage conformance: exchanging two databases")
struct ExchangeTests {
    /// `left` holds keys 0..<3 ("l"), `right` keys 10..<15 ("r").
    private func filled(_ engine: any StorageEngine) throws -> (Database, Database) {
        let left = try engine.database("left")
        let right = try engine.database("right")
        try engine.write { txn throws in
            for n in 0..<3 as Range<UInt64> { try txn.put(left, key(n), Array("l\(n)".utf8)) }
            for n in 10..<15 as Range<UInt64> { try txn.put(right, key(n), Array("r\(n)".utf8)) }
        }
        return (left, right)
    }

    private func keys(_ database: Database, in txn: any TransactionReading) throws -> [UInt64] {
        try entries(database, in: txn).map { BigEndian.uint64($0.key) ?? .max }
    }

    @Test("each gets the other's rows, in the same transaction and after it", arguments: Backend.all)
    func exchanges(backend: Backend) throws {
        let folder = TemporaryFolder("storage-exchange")
        let engine = try backend.fresh(in: folder)
        let (left, right) = try filled(engine)
        try engine.write { txn throws in
            try txn.exchange(left, right)
            #expect(try keys(left, in: txn) == Array(10..<15))
            #expect(try keys(right, in: txn) == Array(0..<3))
            // Writes after it go to the rows the name now holds.
            try txn.put(left, key(20), Array("new".utf8))
        }
        try engine.read { txn throws in
            #expect(try keys(left, in: txn) == Array(10..<15) + [20])
            #expect(try keys(right, in: txn) == Array(0..<3))
            #expect(try txn.count(left) == 6)
            #expect(try txn.get(right, key(1)) == Array("l1".utf8))
        }
        // Twice is each its own rows again.
        try engine.write { txn throws in try txn.exchange(right, left) }
        try engine.read { txn throws in
            #expect(try keys(left, in: txn) == Array(0..<3))
            #expect(try keys(right, in: txn) == Array(10..<15) + [20])
        }
    }

    @Test("a write that throws after an exchange leaves both as they were", arguments: Backend.all)
    func rolledBack(backend: Backend) throws {
        let folder = TemporaryFolder("storage-exchange-abort")
        let engine = try backend.fresh(in: folder)
        let (left, right) = try filled(engine)
        #expect(throws: Abandon.self) {
            try engine.write { txn throws in
                try txn.exchange(left, right)
                throw Abandon()
            }
        }
        try engine.write { txn throws in
            try? txn.nested { child throws in
                try child.exchange(left, right)
                #expect(try keys(left, in: child) == Array(10..<15))
                throw Abandon()
            }
            #expect(try keys(left, in: txn) == Array(0..<3), "a child that failed left its exchange behind")
        }
        try engine.read { txn throws in
            #expect(try keys(left, in: txn) == Array(0..<3))
            #expect(try keys(right, in: txn) == Array(10..<15))
        }
    }

    @Test("a snapshot taken before the exchange keeps reading the rows it began with", arguments: Backend.all)
    func snapshot(backend: Backend) throws {
        let folder = TemporaryFolder("storage-exchange-snapshot")
        let engine = try backend.fresh(in: folder)
        let (left, right) = try filled(engine)
        let begun = DispatchSemaphore(value: 0)
        let committed = DispatchSemaphore(value: 0)
        let seen = LockedBox<[UInt64]>([])
        let reader = Thread {
            try? engine.read { txn throws in
                begun.signal()
                committed.wait()
                seen.set(try keys(left, in: txn))
            }
            begun.signal()
        }
        reader.start()
        begun.wait()
        try engine.write { txn throws in try txn.exchange(left, right) }
        committed.signal()
        begun.wait()
        #expect(seen.get() == Array(0..<3), "the older snapshot saw the exchanged rows")
        try engine.read { txn throws in #expect(try keys(left, in: txn) == Array(10..<15)) }
    }

    @Test("an exchange lasts when the store is opened again", arguments: Backend.all)
    func durable(backend: Backend) throws {
        let folder = TemporaryFolder("storage-exchange-reopen")
        do {
            let engine = try backend.fresh(in: folder, durability: .full)
            let (left, right) = try filled(engine)
            try engine.write { txn throws in try txn.exchange(left, right) }
        }
        let engine = try backend.fresh(in: folder)
        let left = try engine.database("left")
        let right = try engine.database("right")
        try engine.read { txn throws in
            #expect(try keys(left, in: txn) == Array(10..<15))
            #expect(try keys(right, in: txn) == Array(0..<3))
        }
        // The record of it is the backend's own, not a database of the store.
        #expect(Set(try engine.databaseNames()) == ["left", "right"])
    }

    @Test("clear and removeFirst act on the rows the name holds", arguments: Backend.all)
    func clearAfterExchange(backend: Backend) throws {
        let folder = TemporaryFolder("storage-exchange-clear")
        let engine = try backend.fresh(in: folder)
        let (left, right) = try filled(engine)
        try engine.write { txn throws in
            try txn.exchange(left, right)
            #expect(try txn.removeFirst(2, from: left) == 2)
            try txn.clear(right)
        }
        try engine.read { txn throws in
            #expect(try keys(left, in: txn) == Array(12..<15))
            #expect(try txn.count(right) == 0)
        }
        try engine.write { txn throws in
            #expect(try txn.removeFirst(10, from: left) == 3, "only what is there")
            #expect(try txn.removeFirst(10, from: left) == 0)
        }
    }
}

/// Thrown by tests to make a transaction roll back.
private struct Rollback: Error {}
