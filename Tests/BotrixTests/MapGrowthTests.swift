import EventLog
import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// The map grows under load: a 1 MiB map, concurrent writers, cancels and readers. Before
/// LMDB's ownership rules were respected, a commit that failed with MDB_MAP_FULL (raised
/// by the commit itself while the map grows) was aborted a second time and the next write
/// touched freed memory: the server crashed in 6 runs of 7.
@Suite("Map growth under load")
struct MapGrowthTests {
    @Test("from a 1 MiB map: no crash, every acknowledged write present, verify green")
    func growsUnderLoad() async throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("small.mdb"), mapSize: 1 << 20, durability: .nosync))
        let writer = try GroupCommitWriter(log: store.log)
        let service = try await BotrixService(store: store, writer: writer)
        let created = Shared<[UUID]>([])
        let cancelled = Shared<Set<UUID>>([])
        let readsDone = Shared(0)
        let stop = Shared(false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    for round in 0..<60 {
                        let job = try await service.createJob(CreateJob(count: 1 + round % 5, priority: task % 3))
                        created.withLock { $0.append(job.id) }
                        if round % 4 == 0 {
                            _ = try await service.cancel(jobID: job.id, reason: "changed my mind \(round)")
                            cancelled.withLock { _ = $0.insert(job.id) }
                        }
                    }
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    while !(stop.withLock { $0 }) {
                        let page = try service.jobs(page: 1, limit: 20)
                        #expect(page.items.count <= 20)
                        _ = try service.jobStats()
                        _ = try store.log.read(after: 0, limit: 50)
                        readsDone.withLock { $0 += 1 }
                        await Task.yield()
                    }
                }
            }
            for _ in 0..<16 { try await group.next() }
            stop.withLock { $0 = true }
            try await group.waitForAll()
        }
        #expect(store.environment.figures.mapSize > 1 << 20, "the map never grew")
        #expect(readsDone.withLock { $0 } > 0)
        for id in created.withLock({ $0 }) {
            let job = try #require(try service.job(id), "acknowledged job \(id) is missing")
            #expect((job.status == .cancelled) == cancelled.withLock { $0.contains(id) })
        }
        await writer.shutdown()
        #expect(try store.log.verify().isIntact)
        #expect(try Projections.compareWithRebuild(store: store).isEmpty)
    }
}

/// A value several test tasks update.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
