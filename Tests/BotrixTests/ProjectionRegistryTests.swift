import EventLog
import Foundation
import Storage
import TestSupport
import Testing

@testable import Botrix

/// A projection this test adds from outside the Botrix module, through its public API only:
/// how many events of each type the log holds.
struct EventTypeCounts: Projection {
    static let name = "event_types"
    let counts: Database

    init(environment: any StorageEngine) throws { counts = try environment.database("event_types.counts") }

    var databases: [Database] { [counts] }
    var checkpointDatabase: Database { counts }

    func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {
        let key = Array(event.type.utf8)
        let current = try ltx.reading.get(counts, key).flatMap { BigEndian.uint64($0) } ?? 0
        try ltx.put(counts, key, BigEndian.bytes(current + 1))
    }

    /// The counts as this snapshot sees them (the checkpoint left out).
    func read(in txn: any TransactionReading) throws -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        try txn.withCursor(counts) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                let name = String(decoding: current.key, as: UTF8.self)
                if name != "checkpoint" { out[name] = BigEndian.uint64(current.value) }
                entry = try cursor.next()
            }
        }
        return out
    }
}

/// A second added projection: the sequence of the last event it saw.
struct LastSequence: Projection {
    static let name = "last_sequence"
    let rows: Database
    init(environment: any StorageEngine) throws { rows = try environment.database("last_sequence.rows") }
    var databases: [Database] { [rows] }
    var checkpointDatabase: Database { rows }
    func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {
        try ltx.put(rows, Array("last".utf8), BigEndian.bytes(position.sequence))
    }
}

/// A projection whose name would make a backup skip the API keys (`auth.*`).
struct NamedAuth: Projection {
    static let name = "auth"
    let rows: Database
    init(environment: any StorageEngine) throws { rows = try environment.database("auth.rows") }
    var databases: [Database] { [rows] }
    var checkpointDatabase: Database { rows }
    func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {}
}

/// A projection with a database outside its own prefix: a backup would copy it as primary data.
struct StrayDatabase: Projection {
    static let name = "stray"
    let rows: Database
    init(environment: any StorageEngine) throws { rows = try environment.database("elsewhere.rows") }
    var databases: [Database] { [rows] }
    var checkpointDatabase: Database { rows }
    func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {}
}

/// A projection whose second database is named as the first one's partner would be: the
/// partner of `twin.rows` would be its own live `twin.rows~`.
struct PartnerNamed: Projection {
    static let name = "twin"
    let rows: Database
    let twin: Database
    init(environment: any StorageEngine) throws {
        rows = try environment.database("twin.rows")
        twin = try environment.database("twin.rows~")
    }
    var databases: [Database] { [rows, twin] }
    var checkpointDatabase: Database { rows }
    func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws {}
}

@Suite("Projection registry")
struct ProjectionRegistryTests {
    @Test("a reserved name, a name twice, a partner's name or a missing standard projection is refused, not a crash")
    func badRegistries() throws {
        let folder = TemporaryFolder()
        let engine = try folder.environment()
        for registered in [
            Projections.standard + [NamedAuth.self],
            Projections.standard + [EventTypeCounts.self, EventTypeCounts.self],
            [JobsProjection.self], Projections.standard + [StrayDatabase.self],
            Projections.standard + [PartnerNamed.self],
        ] as [[any Projection.Type]] {
            #expect(throws: ProjectionRegistryError.self) {
                _ = try Projections(environment: engine, registered: registered)
            }
        }
        #expect(
            try Projections(environment: engine, registered: Projections.standard + [EventTypeCounts.self]).names == [
                "jobs", "accounts", "event_types",
            ])
    }

    /// Counts of the log's event types, straight from the log.
    static func countsInLog(_ store: BotrixStore) throws -> [String: UInt64] {
        try store.environment.read { txn in
            var out: [String: UInt64] = [:]
            try store.log.forEach(after: 0, in: txn) { event in
                out[event.type, default: 0] += 1
                return true
            }
            return out
        }
    }

    @Test("a projection registered in one list is caught up, applied live, verified, rebuilt and backed up")
    func registeringNeedsNoOtherEdit() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("botrix.mdb")
        // A history written before the projection existed.
        do {
            let store = try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync))
            let writer = try store.makeWriter()
            let service = try await BotrixService(store: store, writer: writer)
            let job = try await service.createJob(CreateJob(count: 2))
            _ = try #require(try await service.claim(workerID: "w"))
            _ = try await service.recordAccount(account(job.id, worker: "w", 1))
            await writer.shutdown()
        }
        let registered = Projections.standard + [EventTypeCounts.self]
        var head: UInt64 = 0
        do {
            let store = try retryingWhileOpen {
                try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync, projections: registered))
            }
            let writer = try store.makeWriter()
            let service = try await BotrixService(store: store, writer: writer)
            let added = try EventTypeCounts(environment: store.environment)

            // Catch-up on open brought it to the head.
            head = try store.log.head().sequence
            #expect(head == 3)  // JobCreated, JobClaimed, AccountCreated
            #expect(try store.environment.read { try added.read(in: $0) } == Self.countsInLog(store))
            #expect(try store.environment.read { try service.projections.checkpoints(in: $0) }["event_types"] == head)

            // Live: every command applies it in its own transaction.
            let second = try await service.createJob(CreateJob(count: 1))
            _ = try await service.cancel(jobID: second.id)
            head = try store.log.head().sequence
            #expect(try store.environment.read { try added.read(in: $0) } == Self.countsInLog(store))
            #expect(try store.environment.read { try added.read(in: $0) }["JobCreated"] == 2)

            // Verify compares it with a replay, and finds a damaged row of it.
            #expect(try Projections.compareWithRebuild(store: store).isEmpty)
            try store.environment.write { txn in
                try txn.put(added.counts, Array("JobCreated".utf8), BigEndian.bytes(99))
            }
            let differences = try Projections.compareWithRebuild(store: store)
            #expect(differences.map(\.database) == ["event_types.counts"])

            // Rebuild replays it like the others.
            _ = try await service.rebuild()
            #expect(try store.environment.read { try added.read(in: $0) } == Self.countsInLog(store))
            #expect(try Projections.compareWithRebuild(store: store).isEmpty)
            await writer.shutdown()
        }

        // A projection added later catches up alone: the others, already at the head, see
        // no event twice (the counts stay equal to the log's).
        let more = registered + [LastSequence.self]
        let store = try retryingWhileOpen {
            try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync, projections: more))
        }
        let writer = try store.makeWriter()
        _ = try await BotrixService(store: store, writer: writer)
        let counted = try EventTypeCounts(environment: store.environment)
        #expect(try store.environment.read { try counted.read(in: $0) } == Self.countsInLog(store))
        let last = try LastSequence(environment: store.environment)
        #expect(try store.environment.read { try $0.get(last.rows, Array("last".utf8)) } == BigEndian.bytes(head))
        #expect(try Projections.compareWithRebuild(store: store).isEmpty)

        // A backup copies the log and rebuilds the registered projections in the copy.
        let copyPath = folder.file("copy.mdb")
        _ = try store.backup(to: copyPath)
        let copy = try BotrixStore(.init(path: copyPath, readOnly: true, projections: more))
        let copied = try EventTypeCounts(environment: copy.environment)
        #expect(try copy.environment.read { try copied.read(in: $0) } == Self.countsInLog(store))
        let copiedProjections = try Projections(store: copy)
        #expect(try copy.environment.read { try copiedProjections.checkpoints(in: $0) }["last_sequence"] == head)
        await writer.shutdown()
    }
}
