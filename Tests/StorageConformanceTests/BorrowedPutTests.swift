import Foundation
import Storage
import TestSupport
import Testing

/// Copying a database row by row (`forEachEntry`, then the borrowed put) gives the rows the
/// copied-array put gives, and refuses the keys it refuses.
@Suite("Storage conformance: copying rows as borrowed bytes")
struct BorrowedPutTests {
    @Test("entries put as borrowed bytes, in order with .append, equal the source", arguments: Backend.all)
    func copiesRows(backend: Backend) throws {
        let folder = TemporaryFolder("storage-borrowed")
        let engine = try backend.fresh(in: folder)
        let source = try engine.database("source")
        let target = try engine.database("target")
        var random = SplitMix(seed: 9)
        try engine.write { txn throws in
            for _ in 0..<500 {
                let value = (0..<Int(random.next(upTo: 300))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                try txn.put(source, key(random.next(upTo: 1 << 20)), value)
            }
        }
        let copied = try engine.write { txn throws in
            try txn.forEachEntry(of: source) { entry in
                try txn.put(target, key: entry.key, value: entry.value, options: .append)
            }
        }
        try engine.read { txn throws in
            let original = try entries(source, in: txn)
            #expect(copied == original.count && original.count > 400)
            #expect(try entries(target, in: txn).elementsEqual(original) { $0.key == $1.key && $0.value == $1.value })
        }
    }

    @Test("an empty or oversized key is refused as the array put refuses it", arguments: Backend.all)
    func refusesBadKeys(backend: Backend) throws {
        let folder = TemporaryFolder("storage-borrowed-keys")
        let engine = try backend.fresh(in: folder)
        let table = try engine.database("table")
        for bad in [[UInt8](), [UInt8](repeating: 7, count: 4096)] {
            try engine.write { txn throws in
                let arrayError = #expect(throws: (any Error).self) { try txn.put(table, bad, [1]) }
                let borrowedError = #expect(throws: (any Error).self) {
                    try bad.withUnsafeBytes {
                        try txn.put(table, key: $0, value: UnsafeRawBufferPointer(start: nil, count: 0), options: [])
                    }
                }
                #expect("\(String(describing: arrayError))" == "\(String(describing: borrowedError))")
            }
        }
    }
}
