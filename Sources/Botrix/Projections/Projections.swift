import Crypto
public import EventLog
import Foundation
public import Storage

/// Every projection of the log. The write path applies each new event here in the
/// transaction that appends it; `rebuild` resets them and replays the log. Each keeps a
/// checkpoint (the last sequence applied) so lag and rebuild progress are visible.
public struct Projections: Sendable {
    static let checkpointKey = "checkpoint"
    public let jobs: JobsProjection
    public let accounts: AccountsProjection

    public init(environment: any StorageEngine) throws {
        jobs = try JobsProjection(environment: environment)
        accounts = try AccountsProjection(environment: environment)
    }

    /// Every projection database, named, in a fixed order.
    public var databases: [Database] { jobs.databases + accounts.databases }

    /// The projections by name, for `botrix rebuild jobs`.
    public static let names = [JobsProjection.name, AccountsProjection.name]

    /// The databases of the named projections (all when `only` is nil).
    public func databases(only: Set<String>?) -> [Database] {
        (only?.contains(JobsProjection.name) ?? true ? jobs.databases : [])
            + (only?.contains(AccountsProjection.name) ?? true ? accounts.databases : [])
    }

    /// Applies one recorded event (decoded once by the caller when it has the payload).
    /// Call ``setCheckpoint(_:in:)`` after the last event of a command or a replay.
    public func apply(
        _ recorded: RecordedEvent, _ event: DomainEvent?, in ltx: inout LogTransaction, only: Set<String>? = nil
    ) throws {
        guard let event = try event ?? DomainEvent(recorded) else { return }
        let position = EventPosition(recorded)
        if only?.contains(JobsProjection.name) ?? true { try jobs.apply(event, position, in: &ltx) }
        if only?.contains(AccountsProjection.name) ?? true { try accounts.apply(event, position, in: &ltx) }
    }

    /// Records that the (named) projections have applied the log up to `sequence`.
    public func setCheckpoint(_ sequence: UInt64, in ltx: inout LogTransaction, only: Set<String>? = nil) throws {
        let checkpoint = Keys.integer(Int64(bitPattern: sequence))
        if only?.contains(JobsProjection.name) ?? true {
            try ltx.put(jobs.counters.database, Array(Self.checkpointKey.utf8), checkpoint)
        }
        if only?.contains(AccountsProjection.name) ?? true {
            try ltx.put(accounts.counters.database, Array(Self.checkpointKey.utf8), checkpoint)
        }
    }

    /// Empties the (named) projections' databases.
    public func reset(in ltx: inout LogTransaction, only: Set<String>? = nil) throws {
        for database in databases(only: only) { try ltx.clear(database) }
    }

    /// The last sequence each projection applied (0 when empty).
    public func checkpoints(in txn: some TransactionReading) throws -> [String: UInt64] {
        [
            JobsProjection.name: UInt64(bitPattern: try jobs.counters.value(Self.checkpointKey, in: txn)),
            AccountsProjection.name: UInt64(bitPattern: try accounts.counters.value(Self.checkpointKey, in: txn)),
        ]
    }

    /// SHA-256 over every key and value of each database, by name: equal digests mean
    /// byte-identical projections (how `verify` compares live state with a rebuild).
    public func digests(in txn: some TransactionReading) throws -> [String: String] {
        var out: [String: String] = [:]
        for database in databases {
            var hasher = SHA256()
            try txn.withCursor(database) { cursor in
                var entry = try cursor.first()
                while let e = entry {
                    withUnsafeBytes(of: UInt32(e.key.count).bigEndian) { hasher.update(bufferPointer: $0) }
                    hasher.update(bufferPointer: e.key)
                    withUnsafeBytes(of: UInt32(e.value.count).bigEndian) { hasher.update(bufferPointer: $0) }
                    hasher.update(bufferPointer: e.value)
                    entry = try cursor.next()
                }
            }
            out[database.name] = JSONText.hex(Array(hasher.finalize()))
        }
        return out
    }
}
