import EventLog
import Foundation
import Storage
import TestSupport
import Testing

@testable import Botrix

/// The replay's fast paths give what the plain computation gives: index entries skipped
/// when a step changes none of their fields, positions that share a formatted time, job
/// streams compared without spelling the id, and pages read and decoded on another thread.
@Suite("Replay fast paths")
struct ReplayPathTests {
    /// A store whose log holds a random history (no projection applied yet).
    static func recordedStore(seed: UInt64, count: Int, in folder: TemporaryFolder) throws -> (
        BotrixStore, [RecordedEvent]
    ) {
        let store = try BotrixStore(.init(path: folder.file("botrix.mdb"), mapSize: 1 << 26, durability: .nosync))
        var random = SplitMix(seed: seed)
        let recorded = try PageFoldTests.record(PageFoldTests.randomEvents(&random, count: count), in: store)
        return (store, recorded)
    }

    /// Every row of `database`.
    private static func rows(_ database: Database, in txn: some TransactionReading) throws -> [[UInt8]: [UInt8]] {
        var out: [[UInt8]: [UInt8]] = [:]
        try txn.forEachEntry(of: database) { out[Array($0.key)] = Array($0.value) }
        return out
    }

    @Test("the job indexes and counters are exactly what the views imply", arguments: [11, 12, 13, 14, 15])
    func indexesFollowViews(seed: UInt64) throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try Self.recordedStore(seed: seed, count: 400, in: folder)
        let projections = try Projections(store: store)
        try store.environment.write { txn in
            var ltx = LogTransaction(log: store.log, transaction: txn, now: 0)
            for event in recorded { try projections.apply(event, nil, in: &ltx) }
        }
        let jobs = projections.jobs
        try store.environment.read { txn in
            let views = try Self.rows(jobs.views, in: txn).values.map { try JobView(row: $0) }
            #expect(views.count == 4)
            func index(_ pick: (JobView) -> ([UInt8], [UInt8])?) -> [[UInt8]: [UInt8]] {
                Dictionary(uniqueKeysWithValues: views.compactMap(pick))
            }
            let queued = index { v in
                v.status == .pending && Keys.delayed(v) == nil ? (Keys.queue(v), Keys.uuid(v.id)) : nil
            }
            let delayed = index { v in v.status == .pending ? Keys.delayed(v).map { ($0, []) } : nil }
            let leases = index { v in Keys.lease(v).map { ($0, []) } }
            #expect(try Self.rows(jobs.byStatus, in: txn) == index { (Keys.jobStatus($0), Keys.uuid($0.id)) })
            #expect(try Self.rows(jobs.queue, in: txn) == queued)
            #expect(try Self.rows(jobs.delayed, in: txn) == delayed)
            #expect(try Self.rows(jobs.leases, in: txn) == leases)
            // The history moved leases while jobs kept running (renewals, claims at new times).
            #expect(
                recorded.contains {
                    $0.type == "ProgressUpdated"
                        && String(decoding: $0.data, as: UTF8.self).contains("lease_expires_at")
                })
            let counts = try jobs.counts(in: txn)
            #expect(counts["total"] == Int64(views.count))
            for status in JobStatus.allCases {
                #expect(
                    counts["status.\(status.rawValue)", default: 0] == Int64(views.filter { $0.status == status }.count)
                )
            }
            #expect(counts["leases", default: 0] == Int64(leases.count))
            #expect(counts["queue.delayed", default: 0] == Int64(delayed.count))
            for priority in Set(views.map(\.priority)) {
                let waiting = views.filter { $0.priority == priority && queued[Keys.queue($0)] != nil }
                #expect(counts["queue.priority.\(priority)", default: 0] == Int64(waiting.count))
            }
        }
    }

    @Test("positions decoded for a page equal positions made one by one, shared times included")
    func decodedPositions() throws {
        let folder = TemporaryFolder()
        let (_, recorded) = try Self.recordedStore(seed: 21, count: 100, in: folder)
        // One commit: every event shares its time; then times that differ from event to event.
        #expect(Set(recorded.map(\.recordedAt)).count == 1)
        var stamped = recorded
        for index in stamped.indices where index % 3 == 0 { stamped[index].recordedAt += Int64(index) }
        for page in [recorded, stamped] {
            let decoded = try Projections.decode(page: page)
            #expect(decoded.map(\.position) == page.map(EventPosition.init))
            #expect(decoded.map(\.position.recordedTime) == page.map { Timestamp.rfc3339(milliseconds: $0.recordedAt) })
        }
    }

    @Test("a job stream is recognised without spelling it, and nothing else is")
    func jobStreams() {
        var random = SplitMix(seed: 7)
        for _ in 0..<200 {
            let id = UUID()
            let other = UUID()
            let stream = Streams.job(id)
            #expect(Streams.isJob(stream, id))
            #expect(!Streams.isJob(Streams.job(other), id))
            #expect(!Streams.isJob("job-" + id.uuidString, id) || id.uuidString == id.text)
            #expect(!Streams.isJob("jobs" + id.text, id))
            #expect(!Streams.isJob(stream + "x", id))
            #expect(!Streams.isJob(String(stream.dropLast()), id))
            // One character changed anywhere is another stream.
            var bytes = Array(stream.utf8)
            let at = Int(random.next(upTo: UInt64(bytes.count)))
            bytes[at] = bytes[at] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            #expect(!Streams.isJob(String(decoding: bytes, as: UTF8.self), id))
        }
        #expect(!Streams.isJob("account-1", UUID()))
    }

    @Test("the reader hands over every page in order, up to the target and no further")
    func readerPages() throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try Self.recordedStore(seed: 31, count: 9_000, in: folder)
        let head = recorded.last!.sequence
        for (after, target) in [(0, head), (5, head - 7), (head, head), (head - 1, head)] {
            var pages: [DecodedPage] = []
            try ReplayReader.replay(store.log, after: after, through: target) { pages.append($0) }
            let expected = recorded.filter { $0.sequence > after && $0.sequence <= target }
            #expect(pages.map(\.recorded).reduce(0, +) == expected.count)
            #expect(pages.flatMap { $0.events.map(\.position.sequence) } == expected.map(\.sequence))
            #expect(pages.last?.last == (expected.isEmpty ? nil : target))
            #expect(pages.allSatisfy { $0.recorded <= ReplayReader.pageSize })
        }
    }

    struct Stop: Error {}

    /// Reads counted across threads.
    final class Reads: @unchecked Sendable {
        private let lock = NSLock()
        private var made = 0
        private var threads: Set<String> = []
        var count: Int { lock.withLock { made } }
        /// The system names of the threads that read.
        var names: Set<String> { lock.withLock { threads } }
        func add() {
            let name = ThreadName.current
            lock.withLock {
                made += 1
                threads.insert(name)
            }
        }
    }

    @Test("a fold that throws ends the replay at once, the reader stopped with it, a bounded way ahead")
    func foldThrows() throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try Self.recordedStore(seed: 32, count: 30_000, in: folder)
        #expect(recorded.count > 6 * ReplayReader.pageSize)
        let reads = Reads()
        let log = store.log
        var folded = 0
        #expect(throws: Stop.self) {
            try ReplayReader.replay(
                after: 0, through: recorded.last!.sequence,
                read: { position in
                    reads.add()
                    return try log.read(after: position, limit: ReplayReader.pageSize)
                }
            ) { _ in
                folded += 1
                if folded == 2 {
                    // Let the reader run as far ahead as it may.
                    Thread.sleep(forTimeInterval: 0.2)
                    throw Stop()
                }
            }
        }
        #expect(folded == 2)
        #expect(reads.names == ["botrix-replay"])
        // Two pages folded, at most `ahead` waiting and one in hand when it was stopped.
        let atReturn = reads.count
        #expect(atReturn >= 2 && atReturn <= 2 + ReplayReader.ahead + 1)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(reads.count == atReturn, "the reader read on after the replay returned")
    }

    @Test("a record that does not decode fails the replay after the pages before it are folded")
    func undecodable() throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try Self.recordedStore(seed: 33, count: 6_000, in: folder)
        try store.environment.write { txn in
            var ltx = LogTransaction(log: store.log, transaction: txn, now: 0)
            _ = try ltx.append(
                AppendRequest(stream: "job-x", events: [ProposedEvent(type: "JobCreated", data: Array("{}".utf8))]))
        }
        var sequences: [UInt64] = []
        #expect(throws: (any Error).self) {
            try ReplayReader.replay(store.log, after: 0, through: .max) { page in
                sequences += page.events.map(\.position.sequence)
            }
        }
        // The pages wholly before the bad record were folded; the one holding it was not.
        let pages = recorded.count / ReplayReader.pageSize
        #expect(sequences == recorded.prefix(pages * ReplayReader.pageSize).map(\.sequence))
    }
}
