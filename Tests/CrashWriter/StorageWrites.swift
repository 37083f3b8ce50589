import Foundation
import Storage
import StorageBackends

#if canImport(Glibc)
    import Glibc
#endif

/// The storage-level writer for the conformance suite's kill test.
enum StorageWrites {
    /// Writes forever: key n (big-endian) holds "value n" in `numbers`, and `meta`'s "last"
    /// holds n, in one transaction; n is acknowledged only after that commit returned.
    static func run(path: String, acknowledgements: String) throws -> Never {
        let engine = try StorageBackends.open(StorageOptions(path: path, mapSize: 1 << 24, durability: .full)) { $0 }
        let numbers = try engine.database("numbers")
        let meta = try engine.database("meta")
        let ack = open(acknowledgements, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard ack >= 0 else { exit(3) }
        var next = try engine.read { txn in
            try txn.get(meta, Array("last".utf8)).flatMap { BigEndian.uint64($0) } ?? 0
        }
        while true {
            next += 1
            let number = next
            try engine.write { txn in
                try txn.put(numbers, BigEndian.bytes(number), Array("value \(number)".utf8))
                try txn.put(meta, Array("last".utf8), BigEndian.bytes(number))
            }
            let line = Array("\(number)\n".utf8)
            _ = line.withUnsafeBytes { write(ack, $0.baseAddress, $0.count) }
        }
    }
}
