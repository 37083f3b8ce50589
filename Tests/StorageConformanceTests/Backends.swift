import Foundation
import Storage
import StorageBackends
import TestSupport

/// The backends the conformance suite runs against. Every test takes one as its argument,
/// so a new backend joins the suite with one entry here (and a case in CrashWriter's
/// `--storage-writes` mode, for the kill test).
struct Backend: CustomStringConvertible, Sendable {
    let description: String
    /// Opens a store at `options.path` (a path inside a fresh temporary folder).
    let open: @Sendable (StorageOptions) throws -> any StorageEngine

    static let all: [Backend] = [
        Backend(description: "LMDB") { options in try StorageBackends.open(options) { $0 } }
    ]

    /// A fresh store in `folder`, with test-friendly defaults (no fsync unless asked).
    func fresh(in folder: TemporaryFolder, durability: Durability = .nosync) throws -> any StorageEngine {
        try open(StorageOptions(path: folder.file("store.mdb"), mapSize: 1 << 24, durability: durability))
    }
}

/// A key of `n` as the layers above make them: eight bytes, big-endian.
func key(_ n: UInt64) -> [UInt8] { BigEndian.bytes(n) }

/// Every entry of `database` in cursor order, copied.
func entries(_ database: Database, in txn: any TransactionReading) throws -> [(key: [UInt8], value: [UInt8])] {
    try txn.withCursor(database) { cursor in
        var out: [(key: [UInt8], value: [UInt8])] = []
        var entry = try cursor.first()
        while let current = entry {
            out.append(current.copied)
            entry = try cursor.next()
        }
        return out
    }
}

/// Thrown by tests to make a transaction roll back.
struct Abandon: Error {}
