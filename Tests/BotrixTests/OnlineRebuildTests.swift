import Dispatch
import EventLog
import Foundation
import JSONCoding
import Synchronization
import TestSupport
import Testing

@testable import Botrix

@Suite("Online rebuild")
struct OnlineRebuildTests {
    @Test("commands commit while the rebuild replays, and the exchanged projections include them")
    func writesGoOnDuringTheReplay() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        for n in 0..<6 { _ = try await s.createJob(CreateJob(count: 1, priority: n % 3)) }
        let midRebuild = JobIDs()
        let report = try await s.rebuild { _ in
            // On the replay's thread: a command must commit now. A rebuild that held the
            // write lock for its whole run would leave it waiting until the timeout.
            guard midRebuild.ids.withLock({ $0.isEmpty }) else { return }
            let done = DispatchSemaphore(value: 0)
            Task {
                if let job = try? await s.createJob(CreateJob(count: 1, priority: 2)) {
                    midRebuild.ids.withLock { $0.append(job.id) }
                }
                done.signal()
            }
            _ = done.wait(timeout: .now() + 120)
        }
        let created = try #require(midRebuild.ids.withLock { $0.first }, "a command could not commit during the replay")
        #expect(try s.job(created) != nil)
        let online = try f.snapshot()
        #expect(report.events == online.head, "the rebuild covers what was appended during it")
        // The exchanged projections equal an in-place rebuild of the same log, byte for byte.
        _ = try await f.writer.perform { ltx in try s.projections.rebuild(in: &ltx) }
        #expect(try f.snapshot().digests == online.digests)
    }

    @Test("the scratch file is removed after a rebuild, and a dead run's leftover by the next one")
    func scratchFiles() async throws {
        let f = try await DomainFixture.make()
        _ = try await f.service.createJob(CreateJob(count: 1))
        let folder = (f.store.environment.path as NSString).deletingLastPathComponent
        let name = (f.store.environment.path as NSString).lastPathComponent
        // Left by a killed run: its owner file is there but nobody holds its lock. Left by a
        // run killed before it made the owner file. And one whose run still holds its lock
        // (here: this test), under this process's pid: ownership is the lock, not the pid.
        // And the lock and owner files of a run that failed to make its scratch file (a full disk).
        let failed = "\(folder)/\(name).rebuild-1-failed.mdb"
        // A run that has just made its owner file and not yet locked it: kept.
        let starting = "\(folder)/\(name).rebuild-1-starting.mdb"
        let dead = "\(folder)/\(name).rebuild-1-dead.mdb"
        let ownerless = "\(folder)/\(name).rebuild-1-ownerless.mdb"
        let live = "\(folder)/\(name).rebuild-\(getpid())-running.mdb"
        for path in [
            dead, dead + "-lock", dead + "-owner", ownerless, live, live + "-owner", failed + "-lock",
            failed + "-owner", starting + "-owner",
        ] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data([1])))
        }
        // The failed run's files are old enough to be leftovers (a fresh owner file without
        // its scratch file may be a run that has not locked it yet).
        for path in [failed + "-lock", failed + "-owner"] {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -120)], ofItemAtPath: path)
        }
        let held = open(live + "-owner", O_RDWR)
        defer { close(held) }
        #expect(flock(held, LOCK_EX | LOCK_NB) == 0)
        _ = try await f.service.rebuild()
        let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".rebuild-") }
        #expect(
            Set(left) == [
                (live as NSString).lastPathComponent, (live as NSString).lastPathComponent + "-owner",
                (starting as NSString).lastPathComponent + "-owner",
            ])
    }

    @Test("a rebuild of one projection exchanges only its databases")
    func onlyNamed() async throws {
        let f = try await DomainFixture.make()
        let s = f.service
        _ = try await s.createJob(CreateJob(count: 1))
        let claimed = try #require(try await s.claimNext(workerID: "w"))
        _ = try await s.recordAccount(account(claimed.id, worker: "w", 1))
        let before = try f.snapshot()
        // Damage one row of each projection; rebuilding only "jobs" must mend jobs alone.
        let jobs = try #require(s.projections.jobs.databases.first)
        let accounts = try #require(s.projections.accounts.databases.first)
        _ = try await f.writer.perform { ltx in
            try ltx.put(jobs, Array("damage".utf8), [1])
            try ltx.put(accounts, Array("damage".utf8), [1])
        }
        let damaged = try f.snapshot()
        let report = try f.store.rebuild(only: ["jobs"])
        #expect(report.rowsCopied > 0)
        let after = try f.snapshot()
        for database in s.projections.jobs.databases {
            #expect(after.digests[database.name] == before.digests[database.name], "\(database.name) mended")
        }
        for database in s.projections.accounts.databases {
            #expect(after.digests[database.name] == damaged.digests[database.name], "\(database.name) was touched")
        }
    }

    @Test("the scratch file is written through its map where its disk holds the map, else as before: same rows")
    func scratchThroughTheMap() async throws {
        let roomy = try await DomainFixture.make()
        // The map to allocate is at least 16 MiB, which this disk cannot hold.
        let disk = try SmallDisk(bytes: 12 << 20)
        defer { disk.unmount() }
        let cramped = try await DomainFixture.make(path: disk.file("botrix.mdb"))
        var throughMap: [Bool] = []
        for f in [roomy, cramped] {
            for n in 0..<30 { _ = try await f.service.createJob(CreateJob(count: 2, priority: n % 3)) }
            let claimed = try #require(try await f.service.claimNext(workerID: "w"))
            _ = try await f.service.recordAccount(account(claimed.id, worker: "w", 1))
            let scratch = try ScratchProjections(store: f.store, throughMap: true)
            defer { scratch.remove() }
            try ScratchLanes(scratch, store: f.store).catchUp(to: try f.store.log.head().sequence)
            let rebuilt = try scratch.read { try scratch.rebuilt.digests(in: $0) }
            #expect(rebuilt == (try f.snapshot().digests))
            throughMap.append(scratch.writesThroughMap)
        }
        #expect(throughMap == [true, false])
        // Nor on a file system that may need new space for allocated pages.
        let ram = try SmallDisk(bytes: 1 << 20, fileSystem: "ramfs")
        defer { ram.unmount() }
        let unreserving = try await DomainFixture.make(path: ram.file("botrix.mdb"))
        _ = try await unreserving.service.createJob(CreateJob(count: 1))
        let plain = try ScratchProjections(store: unreserving.store, throughMap: true)
        defer { plain.remove() }
        #expect(!plain.writesThroughMap)
    }

    @Test("the scratch map is sized by the live projections, not the log, and its unused part is given back")
    func scratchReservation() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 1))
        // A log far bigger than the projections: 40 progress reports of 400 KB (the view
        // keeps the last message only).
        let message = String(repeating: "m", count: 400_000)
        _ = try PageFoldTests.record(
            (0..<40).map { _ in .progressUpdated(ProgressUpdated(jobID: job.id, message: message)) }, in: f.store)
        _ = try f.store.rebuild()
        let live = try Projections(store: f.store)
        let projections = try f.store.environment.read { txn in
            try live.databases.reduce(0) { $0 + (try txn.storedBytes($1)) }
        }
        let logUsed = f.store.environment.figures.usedBytes
        #expect(logUsed > 16_000_000 && projections < 2_000_000, "\(logUsed) \(projections)")
        let scratch = try ScratchProjections(store: f.store, throughMap: true)
        defer { scratch.remove() }
        #expect(scratch.writesThroughMap)
        let reserved = Self.allocated(scratch.path)
        #expect(reserved >= projections && reserved <= 2 * projections + (17 << 20), "\(reserved)")
        try ScratchLanes(scratch, store: f.store).catchUp(to: try f.store.log.head().sequence)
        try scratch.finishWriting()
        #expect(Self.allocated(scratch.path) < 4_000_000, "the unused reservation was kept")
        // Writing is over: one more event cannot be replayed into it.
        _ = try PageFoldTests.record([.progressUpdated(ProgressUpdated(jobID: job.id, progress: 1))], in: f.store)
        #expect(throws: (any Error).self) {
            try ScratchLanes(scratch, store: f.store).catchUp(to: try f.store.log.head().sequence)
        }
        let rebuilt = try scratch.read { try scratch.rebuilt.digests(in: $0) }
        _ = try f.store.rebuild()
        #expect(rebuilt != (try f.snapshot().digests), "the refused event changed nothing in the scratch copy")
    }

    /// Bytes of disk a file holds.
    @Test("a disk that fills while the projections replay side by side: every scratch file goes, the live rows stay")
    func fullDiskDuringTheLanes() async throws {
        let disk = try SmallDisk(bytes: 128 << 20)
        defer { disk.unmount() }
        let f = try await DomainFixture.make(maxJobCount: 50, path: disk.file("botrix.mdb"))
        // Accounts that carry 12 KB each: the accounts lane needs far more room than the jobs lane.
        let blob = JSONValue.string(String(repeating: "d", count: 12_000))
        for _ in 0..<20 {
            _ = try await f.service.createJob(CreateJob(count: 40))
            let claimed = try #require(try await f.service.claimNext(workerID: "w"))
            for n in 0..<40 {
                var record = account(claimed.id, worker: "w", Int.random(in: 0..<1_000_000_000))
                record.accountData = ["blob": blob, "n": .int(Int64(n))]
                _ = try await f.service.recordAccount(record)
            }
        }
        let before = try f.snapshot().digests
        // Leave 6 MB: enough to start, not for 800 accounts of 12 KB a second time.
        var info = statvfs()
        #expect(statvfs(disk.path, &info) == 0)
        let free = Int(info.f_bavail) * Int(info.f_frsize)
        #expect(free > 12 << 20, "the disk is too small for the test: \(free) bytes free")
        let filler = disk.file("filler")
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: free - (6 << 20))))
        #expect(throws: (any Error).self) { _ = try f.store.rebuild() }
        let left = try FileManager.default.contentsOfDirectory(atPath: disk.path).filter { $0.contains(".rebuild-") }
        #expect(left.isEmpty, "scratch files left: \(left)")
        #expect(try f.snapshot().digests == before)
        // With room again, the next rebuild completes.
        try FileManager.default.removeItem(atPath: filler)
        let report = try f.store.rebuild()
        #expect(report.rowsCopied > 0)
        #expect(try f.snapshot().digests == before)
    }

    static func allocated(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_blocks) * 512 : -1
    }
}

/// Job ids recorded from another task.
final class JobIDs: Sendable {
    let ids = Mutex<[UUID]>([])
}
