import EventLog
import Foundation
import LMDB
import Storage
import TestSupport
import Testing

@testable import Botrix

#if canImport(Glibc)
    import Glibc
#endif

/// An online rebuild's move into the partner databases and its exchange: the rows it leaves
/// live, what a stop or a failure at any step leaves, one rebuild at a time.
@Suite("Online rebuild: partners and the exchange")
struct PartnerExchangeTests {
    /// A store with jobs in every state and accounts, and one row of each projection
    /// damaged, so that rebuilt rows differ from the live ones.
    private func populated(seed: UInt64) async throws -> DomainFixture {
        let f = try await DomainFixture.make()
        var random = SplitMix(seed: seed)
        for n in 0..<(12 + Int(random.next(upTo: 8))) {
            _ = try await f.service.createJob(CreateJob(count: 3, priority: n % 3))
        }
        for n in 0..<4 {
            let claimed = try #require(try await f.service.claimNext(workerID: "w"))
            _ = try await f.service.recordAccount(account(claimed.id, worker: "w", n))
        }
        try await damage(f)
        return f
    }

    private func damage(_ f: DomainFixture) async throws {
        let jobs = f.service.projections.jobs.databases[0]
        let accounts = f.service.projections.accounts.databases[0]
        _ = try await f.writer.perform { ltx in
            try ltx.put(jobs, Array("damage".utf8), [1])
            try ltx.put(accounts, Array("damage".utf8), [1])
        }
    }

    /// Rows in every partner database.
    private func partnerRows(_ f: DomainFixture) throws -> Int {
        try f.store.environment.read { txn in
            try f.service.projections.partners.reduce(0) { $0 + (try txn.count($1)) }
        }
    }

    /// The digests an in-place rebuild of the same log gives, taken after it.
    private func rebuiltInPlace(_ f: DomainFixture) async throws -> [String: String] {
        let projections = f.service.projections
        _ = try await f.writer.perform { ltx in try projections.rebuild(in: &ltx) }
        return try f.snapshot().digests
    }

    @Test(
        "moved in small steps with commands between them, the exchanged rows equal an in-place rebuild",
        arguments: [1, 2, 3] as [UInt64])
    func stepsWithCommandsBetween(seed: UInt64) async throws {
        let f = try await populated(seed: seed)
        var random = SplitMix(seed: seed &+ 100)
        // A file per projection, each folded on a thread of its own; or, for seed 2, one
        // file folded on this thread.
        let scratch =
            seed == 2
            ? ScratchLanes(try ScratchProjections(store: f.store), store: f.store) : try ScratchLanes(store: f.store)
        #expect(scratch.lanes.count == (seed == 2 ? 1 : 2))
        defer { scratch.remove() }
        try BotrixStore.build(scratch, log: f.store.log) { _ in }
        // Rows a killed rebuild left in the partners: emptied first.
        _ = try await f.writer.perform { [partners = f.service.projections.partners] ltx in
            for (n, partner) in partners.enumerated() { try ltx.put(partner, Array("left\(n)".utf8), [9]) }
        }
        var transfer = try PartnerTransfer(
            scratch: scratch, live: f.service.projections, store: f.store,
            rowsPerStep: 1 + Int(random.next(upTo: 6)), eventsPerStep: 1 + Int(random.next(upTo: 4)))
        var steps = 0
        while !transfer.isReady {
            let current = transfer
            transfer = try await f.writer.perform { try current.step(in: &$0) }
            steps += 1
            // Commands between the steps: the catch-up and the exchange must include them.
            switch random.next(upTo: 3) {
            case 0: _ = try await f.service.createJob(CreateJob(count: 2))
            case 1:
                if let claimed = try await f.service.claimNext(workerID: "v") {
                    _ = try await f.service.recordAccount(account(claimed.id, worker: "v", 100 + steps))
                }
            default: break
            }
        }
        #expect(transfer.rowsCopied > 0 && steps > transfer.rowsCopied / transfer.rowsPerStep)
        let ready = transfer
        let exchanged = try await f.writer.perform { try ready.exchange(in: &$0) }
        #expect(exchanged.checkpoint == (try f.snapshot().head))
        #expect(try partnerRows(f) > 0, "the retired rows are in the partners until removed")
        transfer = transfer.clearingRetired()
        while !transfer.isCleared {
            let current = transfer
            transfer = try await f.writer.perform { try current.step(in: &$0) }
        }
        #expect(try partnerRows(f) == 0)
        let live = try f.snapshot().digests
        #expect(live == (try await rebuiltInPlace(f)), "seed \(seed)")
    }

    @Test("a rebuild stopped before its exchange leaves the live rows, and the next one completes")
    func stoppedBeforeTheExchange() async throws {
        let f = try await populated(seed: 7)
        let before = try f.snapshot().digests
        for stopAfter in [1, 5, 40] {
            let scratch = try ScratchLanes(store: f.store)
            try BotrixStore.build(scratch, log: f.store.log) { _ in }
            var transfer = try PartnerTransfer(
                scratch: scratch, live: f.service.projections, store: f.store, rowsPerStep: 3)
            for _ in 0..<stopAfter where !transfer.isReady {
                let current = transfer
                transfer = try await f.writer.perform { try current.step(in: &$0) }
            }
            scratch.remove()
            #expect(try f.snapshot().digests == before, "stopped after \(stopAfter) steps")
        }
        #expect(try partnerRows(f) > 0)
        let report = try f.store.rebuild()
        #expect(report.rowsCopied > 0 && report.rowsRetired > 0)
        #expect(try partnerRows(f) == 0)
        let live = try f.snapshot().digests
        #expect(live != before, "the damage is still live")
        #expect(live == (try await rebuiltInPlace(f)))
    }

    @Test("an exchange that fails to commit leaves the live rows; the next rebuild completes")
    func failedExchange() async throws {
        let f = try await populated(seed: 8)
        let before = try f.snapshot().digests
        let environment = try #require(f.store.environment as? Environment)
        let scratch = try ScratchLanes(store: f.store)
        defer { scratch.remove() }
        try BotrixStore.build(scratch, log: f.store.log) { _ in }
        var transfer = try PartnerTransfer(scratch: scratch, live: f.service.projections, store: f.store)
        while !transfer.isReady {
            let current = transfer
            transfer = try await f.writer.perform { try current.step(in: &$0) }
        }
        let ready = transfer
        environment.faults.arm(.commit)
        await #expect(throws: (any Error).self) { _ = try await f.writer.perform { try ready.exchange(in: &$0) } }
        environment.faults.disarm()
        #expect(try f.snapshot().digests == before)
        // Reads and writes go on with the old rows.
        _ = try await f.service.createJob(CreateJob(count: 1))
        _ = try f.store.rebuild()
        let live = try f.snapshot().digests
        #expect(live != before)
        #expect(live == (try await rebuiltInPlace(f)))
    }

    @Test("rows a killed rebuild left in the partners are removed in steps, unless a rebuild runs")
    func leftovers() async throws {
        let f = try await populated(seed: 9)
        // As a rebuild killed while moving in leaves them: more than one step's worth.
        _ = try await f.writer.perform { [partners = f.service.projections.partners] ltx in
            for (n, partner) in partners.enumerated() {
                for k in 0..<3000 { try ltx.put(partner, Array("left\(n)-\(k)".utf8), [1]) }
            }
        }
        let count = 3000 * f.service.projections.partners.count
        #expect(try f.store.status().partnerRows == count, "what `botrix stats` shows")
        let before = try f.snapshot().digests
        let held = try RebuildLock(dataFile: f.store.environment.path)
        #expect(try await f.service.removePartnerLeftovers() == 0, "a running rebuild owns the partners")
        #expect(try partnerRows(f) == count)
        held.release()
        #expect(try await f.service.removePartnerLeftovers() == count)
        #expect(try partnerRows(f) == 0)
        #expect(try f.store.status().partnerRows == 0)
        #expect(try await f.service.removePartnerLeftovers() == 0)
        #expect(try f.snapshot().digests == before, "the live rows were touched")
    }

    @Test("a rebuild that fails while moving in empties the partners it filled, and leaves the live rows")
    func failedMove() async throws {
        let f = try await populated(seed: 10)
        let before = try f.snapshot().digests
        let environment = try #require(f.store.environment as? Environment)
        // The first commit of the live file (emptying the partners, copying this small store's
        // rows in) passes; the second (the catch-up) fails.
        environment.faults.arm(.commit, after: 1)
        #expect(throws: (any Error).self) { _ = try f.store.rebuild() }
        environment.faults.disarm()
        #expect(try partnerRows(f) == 0, "the rows moved in before the failure were left")
        #expect(try f.snapshot().digests == before)
    }

    @Test(
        "a disk that fills while the retired rows are removed: the rebuilt rows stay live, the rebuild says so and ends well, the rest is removed later",
        arguments: [false, true])
    func retiredRemovalFails(throughService: Bool) async throws {
        let f = try await populated(seed: 13)
        let before = try f.snapshot().digests
        let environment = try #require(f.store.environment as? Environment)
        // The partners start empty and nothing is appended meanwhile, so the first delete
        // is the first removal of a retired row, after the exchange.
        environment.faults.arm(.delete, times: 1_000_000, code: ENOSPC)
        let report = try await throughService ? f.service.rebuild() : f.store.rebuild()
        environment.faults.disarm()
        let live = try f.snapshot().digests
        #expect(live != before, "the exchange happened")
        let left = try partnerRows(f)
        #expect(left > 0 && report.retiredLeft == left)
        #expect(report.rowsRetired == 0)
        #expect(report.retireFailure?.contains("No space left on device") == true, "\(report.retireFailure ?? "none")")
        #expect(try f.store.status().partnerRows == left, "what `botrix stats` shows")
        #expect(try await f.service.removePartnerLeftovers() == left)
        #expect(try partnerRows(f) == 0)
        #expect(live == (try await rebuiltInPlace(f)))
    }

    @Test(
        "an I/O error while the retired rows are removed: the rebuilt rows stay live, and the rebuild fails saying so",
        arguments: [false, true])
    func retiredRemovalIOError(throughService: Bool) async throws {
        let f = try await populated(seed: 14)
        let before = try f.snapshot().digests
        let environment = try #require(f.store.environment as? Environment)
        environment.faults.arm(.delete, times: 1_000_000, code: EIO)
        let failure = await #expect(throws: RetireFailed.self) {
            _ = try await throughService ? f.service.rebuild() : f.store.rebuild()
        }
        environment.faults.disarm()
        #expect(try f.snapshot().digests != before, "the exchange happened")
        let left = try partnerRows(f)
        #expect(left > 0 && failure?.report.retiredLeft == left)
        #expect(failure?.description.contains("the rebuilt projections are live") == true)
        #expect(try await f.service.removePartnerLeftovers() == left)
    }

    @Test("a server too old to follow the exchange stops the rebuild before it, with nothing left behind")
    func olderServerAtTheExchange() async throws {
        let f = try await populated(seed: 11)
        let before = try f.snapshot().digests
        // A serve lock as a build from before the exchange holds it: its pid alone.
        let lock = open(f.store.environment.path + "-serve.lock", O_RDWR | O_CREAT, 0o644)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        #expect(pwrite(lock, "4242\n", 5, 0) == 5)
        #expect(throws: OlderServerRunning.self) { _ = try f.store.rebuild(yieldingToWriters: false) }
        #expect(try partnerRows(f) == 0)
        #expect(try f.snapshot().digests == before)
        // A server that follows exchanges: the rebuild completes beside it.
        #expect(ftruncate(lock, 0) == 0 && pwrite(lock, "4242\nexchange\n", 14, 0) == 14)
        _ = try f.store.rebuild(yieldingToWriters: false)
        #expect(try f.snapshot().digests != before)
    }

    @Test("the first exchange raises the file's format from 1 to 2, which builds reading only 1 refuse")
    func formatRaised() async throws {
        let f = try await populated(seed: 12)
        let meta = try f.store.environment.database("meta", create: false)
        let format = {
            try f.store.environment.read { try $0.get(meta, Array("format".utf8)).flatMap { BigEndian.uint64($0) } }
        }
        #expect(try format() == 1)
        _ = try f.store.rebuild(yieldingToWriters: false)
        #expect(try format() == EventLog.exchangedFormat)
        _ = try f.store.rebuild(yieldingToWriters: false)
        #expect(try format() == 2)
        #expect(EventLog.readableFormats.contains(1) && !EventLog.readableFormats.contains(3))
    }

    @Test("one rebuild of a file at a time")
    func oneAtATime() async throws {
        let f = try await DomainFixture.make()
        _ = try await f.service.createJob(CreateJob(count: 1))
        let held = try RebuildLock(dataFile: f.store.environment.path)
        #expect(throws: RebuildLock.Busy.self) { _ = try f.store.rebuild() }
        await #expect(throws: RebuildLock.Busy.self) { _ = try await f.service.rebuild() }
        held.release()
        _ = try f.store.rebuild()
        _ = try await f.service.rebuild()
    }

    @Test("a running server's pass removes a killed rebuild's scratch files, not a running one's")
    func scratchLeftoversWhileServing() async throws {
        let f = try await DomainFixture.make()
        _ = try await f.service.createJob(CreateJob(count: 1))
        // A rebuild in progress (its lanes hold their owner locks) and, beside it, the files
        // of one killed after it made them (no owner lock held).
        let running = try ScratchLanes(store: f.store)
        defer { running.remove() }
        let dead = f.store.environment.path + ".rebuild-7-dead.mdb"
        for path in [dead, dead + "-owner"] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 4096)))
        }
        #expect(f.service.removeScratchLeftovers() == [dead])
        #expect(
            !FileManager.default.fileExists(atPath: dead) && !FileManager.default.fileExists(atPath: dead + "-owner"))
        for lane in running.lanes { #expect(FileManager.default.fileExists(atPath: lane.path)) }
        #expect(f.service.removeScratchLeftovers().isEmpty)
    }

    @Test("a rebuild lock that cannot be made says which file and why, in words")
    func unopenableLock() throws {
        let error = #expect(throws: FileProblem.self) {
            _ = try RebuildLock(dataFile: "/nonexistent-botrix-folder/botrix.mdb")
        }
        #expect(
            error?.description == "cannot open /nonexistent-botrix-folder/botrix.mdb-rebuild: No such file or directory"
        )
    }
}
