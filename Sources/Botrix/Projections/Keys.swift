import EventLog
import Foundation
import Storage

/// Byte layouts of projection keys. Big-endian numbers keep LMDB's order numeric.
enum Keys {
    static func uuid(_ id: UUID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid) { Array($0) }
    }

    static func uuid(from bytes: some Collection<UInt8>) -> UUID? {
        guard bytes.count == 16 else { return nil }
        let b = Array(bytes)
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }

    static func integer(_ value: Int64) -> [UInt8] { BigEndian.bytes(UInt64(bitPattern: value)) }

    /// Queue order: higher priority first, then requeued jobs, then FIFO by `JobCreated` sequence.
    static func queue(_ job: JobIndexFields) -> [UInt8] {
        var key: [UInt8] = [UInt8(255 - job.priority), job.requeued ? 0 : 1]
        BigEndian.append(job.createdSequence, to: &key)
        return key
    }

    /// A pending retry's backoff: its `available_at`, then job id; nil when it has none.
    static func delayed(_ job: JobIndexFields) -> [UInt8]? {
        delayedUntil(job).map { integer($0) + uuid(job.id) }
    }

    /// The time a ``delayed(_:)`` key starts with: the job's `available_at`, when it is one.
    /// Apart from the key so that whether a job has one is asked without building it.
    static func delayedUntil(_ job: JobIndexFields) -> Int64? { job.availableAt.flatMap(Timestamp.parse) }

    /// Leases by expiry time, then job id.
    static func lease(_ job: JobIndexFields) -> [UInt8]? {
        leaseExpiry(job).map { integer($0) + uuid(job.id) }
    }

    /// The time a ``lease(_:)`` key starts with: a running job's `lease_expires_at`, when it
    /// is one.
    static func leaseExpiry(_ job: JobIndexFields) -> Int64? {
        job.status == .running ? job.leaseExpiresAt.flatMap(Timestamp.parse) : nil
    }

    static func jobStatus(_ job: JobIndexFields) -> [UInt8] {
        [job.status.code] + BigEndian.bytes(job.createdSequence)
    }

    static func queue(_ job: JobView) -> [UInt8] { queue(JobIndexFields(job)) }
    static func delayed(_ job: JobView) -> [UInt8]? { delayed(JobIndexFields(job)) }
    static func lease(_ job: JobView) -> [UInt8]? { lease(JobIndexFields(job)) }
    static func jobStatus(_ job: JobView) -> [UInt8] { jobStatus(JobIndexFields(job)) }
}

/// Named `i64` counters in one database, so every total the API shows is a lookup.
struct Counters {
    let database: Database

    func value(_ name: String, in txn: some TransactionReading) throws -> Int64 {
        guard let raw = try txn.get(database, Array(name.utf8)), let value = BigEndian.uint64(raw) else { return 0 }
        return Int64(bitPattern: value)
    }

    func add(_ delta: Int64, to name: String, in ltx: inout LogTransaction) throws {
        guard delta != 0 else { return }
        let current = try value(name, in: ltx.reading)
        try ltx.put(database, Array(name.utf8), Keys.integer(current + delta))
    }

    func set(_ value: Int64, _ name: String, in ltx: inout LogTransaction) throws {
        try ltx.put(database, Array(name.utf8), Keys.integer(value))
    }

    /// Writes each changed counter once: its value plus the summed change (written even
    /// when the sum is zero, as adding and then subtracting one by one would leave it).
    func apply(_ changes: CounterChanges, in ltx: inout LogTransaction) throws {
        for (name, delta) in changes.deltas { try set(try value(name, in: ltx.reading) + delta, name, in: &ltx) }
    }

    /// Every counter but the checkpoint, for tests and `stats`.
    func all(in txn: some TransactionReading) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        try txn.withCursor(database) { cursor in
            var entry = try cursor.first()
            while let e = entry {
                let name = String(decoding: e.key, as: UTF8.self)
                if name != Projections.checkpointKey { out[name] = Int64(bitPattern: BigEndian.uint64(e.value) ?? 0) }
                entry = try cursor.next()
            }
        }
        return out
    }
}

/// Counter changes summed over a step or a replay's page, so each counter is read and
/// written once (see ``Counters/apply(_:in:)``). A zero change is no change, as in
/// ``Counters/add(_:to:in:)``.
struct CounterChanges {
    /// At most a few per event and a score per page (the counters' names are few): a list
    /// scanned costs less than hashing each name into a dictionary on the write path.
    private(set) var deltas: [(name: String, delta: Int64)] = []

    mutating func add(_ delta: Int64, to name: String) {
        guard delta != 0 else { return }
        if let index = deltas.firstIndex(where: { $0.name == name }) {
            deltas[index].delta += delta
        } else {
            deltas.append((name, delta))
        }
    }
}
