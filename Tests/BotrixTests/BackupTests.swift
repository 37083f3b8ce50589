import EventLog
import Foundation
import LMDB
import Storage
import TestSupport
import Testing

@testable import Botrix

/// `BotrixStore.backup`: the log page by page, one short snapshot for the rest, the
/// projections rebuilt in the copy. The copy must equal the source, even with writes
/// landing between its pages.
@Suite("Backup")
struct BackupTests {
    /// Every entry of every database of `environment` except `skip`, as one digest per name.
    func tables(_ environment: any StorageEngine, skip: Set<String> = []) throws -> [String: [[UInt8]]] {
        var out: [String: [[UInt8]]] = [:]
        for name in try environment.databaseNames() where !skip.contains(name) {
            let database = try environment.database(name, create: false)
            out[name] = try environment.read { txn in
                try txn.withCursor(database) { cursor in
                    var rows: [[UInt8]] = []
                    var entry = try cursor.first()
                    while let current = entry {
                        rows.append(Array(current.key) + [0xFF] + Array(current.value))
                        entry = try cursor.next()
                    }
                    return rows
                }
            }
        }
        return out
    }

    @Test("a copy made in small pages while jobs are created equals the source, database by database")
    func copyEqualsSource() async throws {
        let fixture = try await DomainFixture.make()
        let service = fixture.service
        for n in 0..<12 {
            _ = try await service.createJob(CreateJob(count: 3, priority: n % 3))
            if n % 3 == 0 {
                let claimed = try #require(try await service.claimNext(workerID: "w-\(n)"))
                let recorded = try await service.recordAccount(account(claimed.id, worker: "w-\(n)", n))
                if n == 3 { try await service.deleteAccount(id: recorded.id) }
            }
        }
        let destination = fixture.folder.file("copy.mdb")
        let headAtStart = try fixture.store.log.head().sequence
        var pages = 0
        let report = try fixture.store.backup(to: destination, pageSize: 3) { _, _ in
            pages += 1
            // Writes land between the pages; the final snapshot must pick them up.
            let done = DispatchSemaphore(value: 0)
            Task {
                _ = try? await service.createJob(CreateJob(count: 1))
                done.signal()
            }
            done.wait()
        }
        #expect(pages > 5, "the log was not copied in pages")
        let sourceHead = try fixture.store.log.head().sequence
        #expect(sourceHead > headAtStart)
        #expect(report.head == sourceHead)
        #expect(report.pagedEvents <= headAtStart)
        let copy = try BotrixStore(.init(path: destination, readOnly: true))
        #expect(try copy.log.verify().isIntact)
        #expect(try copy.log.head() == fixture.store.log.head())
        let source = try tables(fixture.store.environment)
        let copied = try tables(copy.environment)
        #expect(Set(source.keys) == Set(copied.keys))
        for (name, rows) in source { #expect(copied[name] == rows, "database \(name) differs in the copy") }
    }

    @Test("a copy brought up to its source after more commands equals the source, projections included")
    func refreshedCopyEqualsSource() async throws {
        let fixture = try await DomainFixture.make()
        let service = fixture.service
        var n = 0
        func work() async throws {
            for _ in 0..<4 {
                n += 1
                _ = try await service.createJob(CreateJob(count: 2, priority: n % 3))
                let claimed = try #require(try await service.claimNext(workerID: "w-\(n)"))
                let recorded = try await service.recordAccount(account(claimed.id, worker: "w-\(n)", n))
                if n % 2 == 0 { try await service.deleteAccount(id: recorded.id) }
            }
        }
        try await work()
        let owned = OwnedFiles()
        let claim = try BackupFiles.claim(fixture.folder.file("copy.mdb"), owned: owned)
        defer {
            claim.emptyFolder()
            owned.removeAll()
        }
        let working = claim.working
        let (copy, made) = try fixture.store.buildBackup(in: working, progress: { _, _ in }, atSnapshot: { _ in })
        try await work()
        let head = try fixture.store.refreshBackup(copy) { _ in }
        #expect(head > made.head)
        #expect(head == (try fixture.store.log.head().sequence))
        let source = try tables(fixture.store.environment)
        let copied = try tables(copy)
        #expect(Set(source.keys) == Set(copied.keys))
        for (name, rows) in source { #expect(copied[name] == rows, "database \(name) differs in the copy") }
    }
}
