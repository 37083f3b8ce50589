import Dispatch
import Foundation
import Storage
import TestSupport
import Testing

/// Reads see one committed state, and cursors walk keys in bytewise order.
@Suite("Storage conformance: snapshots and ordered scans")
struct ReadTests {
    /// What a reader saw while another thread committed beneath it.
    struct Sightings: Sendable {
        var writerFinished = false
        var valueBefore: [UInt8]?
        var valueAfter: [UInt8]?
        var keysAfter: [[UInt8]] = []
        var countAfter = 0
    }

    @Test("a read keeps its snapshot while a writer commits, and does not block the writer", arguments: Backend.all)
    func snapshotIsolation(backend: Backend) async throws {
        let folder = TemporaryFolder("storage-snapshot")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn throws in
            for n in 0..<10 as Range<UInt64> { try txn.put(table, key(n), [0]) }
        }
        // Blocking work (a second thread, a semaphore) runs off Swift's shared pool.
        let seen = try await onOwnThread { () throws -> Sightings in
            try engine.read { txn throws in
                var seen = Sightings()
                seen.valueBefore = try txn.get(table, key(3))
                let committed = DispatchSemaphore(value: 0)
                let failure = LockedBox<(any Error)?>(nil)
                Thread {
                    do {
                        try engine.write { writer in
                            try writer.put(table, key(3), [1])
                            try writer.put(table, key(100), [1])
                            _ = try writer.delete(table, key(0))
                        }
                    } catch {
                        failure.set(error)
                    }
                    committed.signal()
                }.start()
                seen.writerFinished = committed.wait(timeout: .now() + 60) == .success && failure.get() == nil
                seen.valueAfter = try txn.get(table, key(3))
                seen.keysAfter = try entries(table, in: txn).map(\.key)
                seen.countAfter = try txn.count(table)
                return seen
            }
        }
        #expect(seen.writerFinished, "the writer could not commit while a read was open")
        #expect(seen.valueBefore == [0])
        #expect(seen.valueAfter == [0], "the open read saw a later commit")
        #expect(seen.keysAfter == (0..<10).map { key($0) })
        #expect(seen.countAfter == 10)
        try engine.read { txn throws in
            #expect(try txn.get(table, key(3)) == [1])
            #expect(try txn.count(table) == 10)
            #expect(try txn.get(table, key(0)) == nil)
        }
    }

    @Test("a write sees its own puts, counts and cursor entries before it commits", arguments: Backend.all)
    func readYourWrites(backend: Backend) throws {
        let folder = TemporaryFolder("storage-own")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn throws in
            try txn.put(table, key(1), [1])
            #expect(try txn.get(table, key(1)) == [1])
            #expect(try txn.count(table) == 1)
            #expect(try entries(table, in: txn).map(\.key) == [key(1)])
        }
    }

    @Test("cursors walk keys in bytewise order; seeks find the nearest key each way", arguments: Backend.all)
    func orderedRangeScans(backend: Backend) throws {
        let folder = TemporaryFolder("storage-order")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        var generator = SystemRandomNumberGenerator()
        var keys = Set<[UInt8]>()
        while keys.count < 600 {
            // Mixed shapes: big-endian integers (sequence keys), prefixed text, raw bytes with 0x00 and 0xFF.
            switch keys.count % 3 {
            case 0: keys.insert(key(UInt64.random(in: 0...UInt64.max, using: &generator)))
            case 1: keys.insert(Array("job.\(Int.random(in: 0...9999, using: &generator))".utf8))
            default: keys.insert((0..<Int.random(in: 1...12)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            }
        }
        let sorted = keys.sorted { $0.lexicographicallyPrecedes($1) }
        try engine.write { txn throws in
            for (index, key) in keys.enumerated() { try txn.put(table, key, BigEndian.bytes(UInt64(index))) }
        }
        try engine.read { txn throws in
            #expect(try entries(table, in: txn).map(\.key) == sorted)
            let backwards = try txn.withCursor(table) { cursor in
                var out: [[UInt8]] = []
                var entry = try cursor.last()
                while let current = entry {
                    out.append(Array(current.key))
                    entry = try cursor.previous()
                }
                return out
            }
            #expect(backwards == sorted.reversed())
            for _ in 0..<200 {
                let probe = (0..<Int.random(in: 1...9)).map { _ in UInt8.random(in: 0...255) }
                let atLeast = sorted.first { !$0.lexicographicallyPrecedes(probe) }
                let atMost = sorted.last { !probe.lexicographicallyPrecedes($0) }
                let found = try txn.withCursor(table) { cursor in
                    (
                        try cursor.seek(atLeast: probe).map { Array($0.key) },
                        try cursor.seek(atMost: probe).map { Array($0.key) }
                    )
                }
                #expect(found.0 == atLeast, "seek(atLeast: \(probe))")
                #expect(found.1 == atMost, "seek(atMost: \(probe))")
            }
            // A range scan as the layers above write it: seek to the start, next until past the end.
            let start = sorted[100]
            let end = sorted[250]
            let range = try txn.withCursor(table) { cursor in
                var out: [[UInt8]] = []
                var entry = try cursor.seek(atLeast: start)
                while let current = entry, !end.lexicographicallyPrecedes(Array(current.key)) {
                    out.append(Array(current.key))
                    entry = try cursor.next()
                }
                return out
            }
            #expect(range == Array(sorted[100...250]))
        }
    }

    @Test(
        "clear empties a database and keeps its handle; delete says whether the key was there", arguments: Backend.all)
    func clearAndDelete(backend: Backend) throws {
        let folder = TemporaryFolder("storage-clear")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        let other = try engine.database("other")
        try engine.write { txn throws in
            for n in 0..<50 as Range<UInt64> { try txn.put(table, key(n), [1]) }
            try txn.put(other, key(1), [1])
        }
        try engine.write { txn throws in
            #expect(try txn.delete(table, key(7)))
            #expect(try !txn.delete(table, key(7)))
            try txn.clear(table)
            try txn.put(table, key(99), [9])
        }
        try engine.read { txn throws in
            #expect(try entries(table, in: txn).map(\.key) == [key(99)])
            #expect(try txn.count(other) == 1)
        }
        #expect(try engine.databaseNames().filter { ["table", "other"].contains($0) }.sorted() == ["other", "table"])
    }
}

/// A value two threads share under a lock (the snapshot test's writer reports through it).
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
}
