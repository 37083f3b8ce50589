import EventLog
import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport

@testable import Botrix

/// A clock the test moves by hand; the writer reads it for every batch.
final class TestClock: Sendable {
    private let now = Mutex<Int64>(1_767_323_045_678)  // 2026-01-02T03:04:05.678Z
    var milliseconds: Int64 { now.withLock { $0 } }
    func advance(seconds: Int64) { now.withLock { $0 += seconds * 1000 } }
    func advanceMilliseconds(_ milliseconds: Int64) { now.withLock { $0 += milliseconds } }
}

/// A service on a fresh file with an injected clock.
struct DomainFixture {
    let folder: TemporaryFolder
    let store: BotrixStore
    let clock: TestClock
    let writer: GroupCommitWriter
    let service: BotrixService

    static func make(
        leaseSeconds: Int = 60, maxAttempts: Int = 3, maxJobCount: Int = 100, retryBackoffBaseSeconds: Int = 0,
        retryBackoffMaxSeconds: Int = 600, path: String? = nil
    ) async throws -> DomainFixture {
        let folder = TemporaryFolder()
        let store = try BotrixStore(
            .init(path: path ?? folder.file("botrix.mdb"), mapSize: 1 << 26, durability: .nosync))
        let clock = TestClock()
        let writer = try GroupCommitWriter(log: store.log, clock: { clock.milliseconds })
        let service = try await BotrixService(
            store: store, writer: writer,
            settings: .init(
                leaseSeconds: leaseSeconds, maxAttempts: maxAttempts, maxJobCount: maxJobCount,
                retryBackoffBaseSeconds: retryBackoffBaseSeconds, retryBackoffMaxSeconds: retryBackoffMaxSeconds))
        return DomainFixture(folder: folder, store: store, clock: clock, writer: writer, service: service)
    }

    /// Digest of every projection database, and the log head.
    func snapshot() throws -> (head: UInt64, digests: [String: String]) {
        try store.environment.read { txn in
            (try store.log.head(in: txn).sequence, try service.projections.digests(in: txn))
        }
    }
}

func account(
    _ job: UUID, worker: String, _ n: Int, email: String? = nil, username: String? = nil
) -> RecordAccount {
    RecordAccount(
        jobID: job, workerID: worker, email: email ?? "user\(n)@example.com", username: username ?? "user_\(n)",
        password: "correct horse \(n)", birthdate: "1990-05-17", accountData: ["n": .int(Int64(n))])
}
