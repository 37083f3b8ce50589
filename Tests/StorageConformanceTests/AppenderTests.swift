import Foundation
import Storage
import TestSupport
import Testing

/// Copying a sorted database through an appender (one write position kept from row to row)
/// gives the rows that putting each with `.append` gives, and refuses what that refuses.
@Suite("Storage conformance: appending rows in key order")
struct AppenderTests {
    /// A database of a few hundred random rows, values up to 300 bytes (many pages).
    static func source(in engine: any StorageEngine) throws -> Database {
        let source = try engine.database("source")
        var random = SplitMix(seed: 11)
        try engine.write { txn throws in
            for _ in 0..<600 {
                let value = (0..<Int(random.next(upTo: 300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                try txn.put(source, key(random.next(upTo: 1 << 20)), value)
            }
        }
        return source
    }

    @Test("rows appended in order equal the source and what puts with .append give", arguments: Backend.all)
    func copiesRows(backend: Backend) throws {
        let folder = TemporaryFolder("storage-appender")
        let engine = try backend.fresh(in: folder)
        let source = try Self.source(in: engine)
        let appended = try engine.database("appended")
        let put = try engine.database("put")
        let copied = try engine.write { txn throws in
            try txn.forEachEntry(of: source) { entry in
                let row = entry.copied
                try txn.put(put, row.key, row.value, options: .append)
            }
            return try txn.withAppender(appended) { appender in
                try txn.forEachEntry(of: source) { try appender.append($0) }
            }
        }
        try engine.read { txn throws in
            let original = try entries(source, in: txn)
            #expect(copied == original.count && original.count > 500)
            #expect(try entries(appended, in: txn).elementsEqual(original) { $0.key == $1.key && $0.value == $1.value })
            #expect(try entries(put, in: txn).elementsEqual(original) { $0.key == $1.key && $0.value == $1.value })
        }
    }

    @Test("a key not above the last is refused, and the rows before it stay", arguments: Backend.all)
    func refusesOutOfOrder(backend: Backend) throws {
        let folder = TemporaryFolder("storage-appender-order")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn throws in
            try txn.withAppender(table) { appender in
                for n: UInt64 in [1, 2, 3] {
                    try key(n).withUnsafeBytes { k in
                        try [UInt8(n)].withUnsafeBytes { try appender.append(key: k, value: $0) }
                    }
                }
                for n: UInt64 in [2, 3] {
                    #expect(throws: (any Error).self) {
                        try key(n).withUnsafeBytes { k in
                            try [9].withUnsafeBytes { try appender.append(key: k, value: $0) }
                        }
                    }
                }
            }
            #expect(try entries(table, in: txn).map(\.value) == [[1], [2], [3]])
        }
    }

    @Test("rows whose values are written in place equal rows appended from buffers", arguments: Backend.all)
    func reservesRows(backend: Backend) throws {
        let folder = TemporaryFolder("storage-appender-reserve")
        let engine = try backend.fresh(in: folder)
        let source = try Self.source(in: engine)
        let reserved = try engine.database("reserved")
        try engine.write { txn throws in
            try txn.withAppender(reserved) { appender in
                _ = try txn.forEachEntry(of: source) { entry in
                    var filled = 0
                    try appender.append(key: entry.key, reserving: entry.value.count) { room in
                        #expect(room.count == entry.value.count)
                        room.copyMemory(from: entry.value)
                        filled += 1
                    }
                    #expect(filled == 1)
                }
                // An empty value, and one larger than a page (its own overflow pages).
                let big = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
                for (n, value) in [(UInt64(1) << 21, [UInt8]()), ((1 << 21) + 1, big)] {
                    try key(n).withUnsafeBytes { k in
                        try appender.append(key: k, reserving: value.count) { room in
                            value.withUnsafeBytes { room.copyMemory(from: $0) }
                        }
                    }
                }
            }
        }
        try engine.read { txn throws in
            let original = try entries(source, in: txn)
            let rows = try entries(reserved, in: txn)
            #expect(rows.count == original.count + 2 && original.count > 500)
            #expect(rows.prefix(original.count).elementsEqual(original) { $0.key == $1.key && $0.value == $1.value })
            #expect(rows[original.count].value.isEmpty)
            #expect(rows[original.count + 1].value == (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        }
    }

    @Test("a reserving append refused for its key never calls its fill", arguments: Backend.all)
    func refusedReserveDoesNotFill(backend: Backend) throws {
        let folder = TemporaryFolder("storage-appender-reserve-refused")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        try engine.write { txn throws in
            try txn.withAppender(table) { appender in
                try key(5).withUnsafeBytes { k in
                    try appender.append(key: k, reserving: 1) { $0[0] = 5 }
                }
                for bad in [key(5), key(4), [], [UInt8](repeating: 7, count: 4096)] {
                    var called = false
                    #expect(throws: (any Error).self) {
                        try bad.withUnsafeBytes { k in
                            try appender.append(key: k, reserving: 3) { _ in called = true }
                        }
                    }
                    #expect(!called)
                }
            }
            #expect(try entries(table, in: txn).map(\.value) == [[5]])
        }
    }

    @Test("an empty or oversized key is refused as the array put refuses it", arguments: Backend.all)
    func refusesBadKeys(backend: Backend) throws {
        let folder = TemporaryFolder("storage-appender-keys")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        for bad in [[UInt8](), [UInt8](repeating: 7, count: 4096)] {
            try engine.write { txn throws in
                let arrayError = #expect(throws: (any Error).self) { try txn.put(table, bad, [1]) }
                let appendError = #expect(throws: (any Error).self) {
                    try txn.withAppender(table) { appender in
                        try bad.withUnsafeBytes {
                            try appender.append(key: $0, value: UnsafeRawBufferPointer(start: nil, count: 0))
                        }
                    }
                }
                #expect("\(String(describing: arrayError))" == "\(String(describing: appendError))")
            }
        }
    }
}

/// What a database occupies, as a copy of it would need room for.
@Suite("Storage conformance: stored bytes")
struct StoredBytesTests {
    @Test(
        "an empty database occupies nothing; rows occupy at least their bytes; a clear gives it back",
        arguments: Backend.all)
    func storedBytes(backend: Backend) throws {
        let folder = TemporaryFolder("storage-bytes")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        #expect(try engine.read { try $0.storedBytes(table) } == 0)
        try engine.write { txn throws in
            for n: UInt64 in 0..<1000 { try txn.put(table, key(n), [UInt8](repeating: 1, count: 100)) }
        }
        let filled = try engine.read { try $0.storedBytes(table) }
        #expect(filled >= 1000 * 108 && filled < 1000 * 108 * 3, "\(filled)")
        try engine.write { txn throws in try txn.clear(table) }
        #expect(try engine.read { try $0.storedBytes(table) } == 0)
    }
}
