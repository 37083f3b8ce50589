import EventLog
import Foundation
import JSONCoding
import LMDB
import Storage
import TestSupport
import Testing

@testable import Botrix

/// `Projections.compareWithRebuild` reads page by page in short transactions while a
/// writer goes on: no false difference from the writes, and real damage is still found.
@Suite("Projection check")
struct ProjectionCheckTests {
    func populate(_ service: BotrixService, jobs: Int) async throws {
        for n in 0..<jobs {
            _ = try await service.createJob(CreateJob(count: 2, priority: n % 3))
            if n % 4 == 0, let claimed = try await service.claimNext(workerID: "w-\(n)") {
                _ = try await service.recordAccount(account(claimed.id, worker: "w-\(n)", n))
            }
        }
    }

    @Test("in pages of 3 rows with jobs created throughout: no difference")
    func writesDuringTheCheck() async throws {
        let fixture = try await DomainFixture.make()
        try await populate(fixture.service, jobs: 40)
        let service = fixture.service
        let writing = Task {
            for _ in 0..<200 { _ = try await service.createJob(CreateJob(count: 1)) }
        }
        let store = fixture.store
        let differences = try await Task.detached {
            try Projections.compareWithRebuild(store: store, pageSize: 3)
        }.value
        try await writing.value
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("a damaged row is found, by database and key, even with writes between pages")
    func damageFound() async throws {
        let fixture = try await DomainFixture.make()
        try await populate(fixture.service, jobs: 30)
        let views = try fixture.store.environment.database("jobs.views")
        let damagedKey = try fixture.store.environment.read { txn in
            try txn.withCursor(views) { cursor in try #require(try cursor.last()).copied.key }
        }
        try fixture.store.environment.write { txn in
            var row = try #require(try txn.get(views, damagedKey))
            row[row.count - 1] ^= 0x01
            try txn.put(views, damagedKey, row)
        }
        let service = fixture.service
        let writing = Task { for _ in 0..<50 { _ = try await service.createJob(CreateJob(count: 1)) } }
        let store = fixture.store
        let differences = try await Task.detached {
            try Projections.compareWithRebuild(store: store, pageSize: 4)
        }.value
        try await writing.value
        #expect(differences.map(\.database) == ["jobs.views"], "\(differences)")
        #expect(differences.first?.key == JSONText.hex(damagedKey))
    }
}
