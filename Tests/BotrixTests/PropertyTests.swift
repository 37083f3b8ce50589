import EventLog
import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// Random command sequences — valid and invalid, many workers, cancellations, lease
/// expiries on an injected clock — checked after every batch, then rebuilt.
@Suite("Properties over random command sequences")
struct PropertyTests {
    @Test(
        "rebuild equals live, every job in exactly one place, counters equal a recount, no account twice",
        arguments: [11, 22, 33, 44])
    func randomSequences(seed: UInt64) async throws {
        // Retries wait out a backoff of 10–40 s, so the queue and the delayed retries both fill.
        let f = try await DomainFixture.make(
            leaseSeconds: 40, maxAttempts: 2, maxJobCount: 6, retryBackoffBaseSeconds: 20, retryBackoffMaxSeconds: 40)
        var random = SplitMix(seed: seed)
        let created = Mutex<[UUID]>([])
        let attempts = Attempts()
        for round in 0..<150 {
            let running = try f.service.jobs(page: 1, limit: 100, status: .running).items.map(\.id)
            let commands = (0..<Int(random.next(upTo: 8) + 1)).map { _ in
                randomCommand(&random, f, knownJobs: created.withLock { $0 }, running: running, attempts: attempts)
            }
            await withTaskGroup(of: UUID?.self) { group in
                for command in commands { group.addTask { try? await command() } }
                for await id in group { if let id { created.withLock { $0.append(id) } } }
            }
            if random.next(upTo: 4) == 0 {
                f.clock.advance(seconds: Int64(random.next(upTo: 60)))
                _ = try await f.service.expireDueLeases()
                // The monitor's other half: due retries into the queue (or a claim takes them first).
                if random.next(upTo: 2) == 0 { try await f.service.queueDueRetries() }
            }
            try checkInvariants(f, created: created.withLock { $0 }, context: "seed \(seed) round \(round)")
        }
        #expect(attempts.staleSuccesses.withLock { $0 } == [], "seed \(seed): a stale attempt acted")
        #expect(attempts.staleTries.withLock { $0 } > 0, "seed \(seed): no stale call was tried")
        let live = try f.snapshot()
        // The sequence exercised the machine, not just refusals.
        let all = try f.store.log.read(after: 0, limit: .max)
        let types = Set(all.map(\.type))
        // Retries took the backoff path, and a retry that waited it out was claimed again.
        let backedOff = Set(
            all.filter { $0.type == "JobFailed" && String(decoding: $0.data, as: UTF8.self).contains("available_at") }
                .map(\.stream))
        #expect(!backedOff.isEmpty, "seed \(seed): no retry waited out a backoff")
        let stats = try f.service.jobStats()
        print(
            "seed \(seed): \(live.head) events, jobs \(stats.byStatus), accounts \(try f.service.accountStats().total), types \(types.count)"
        )
        #expect(
            types.isSuperset(of: [
                "JobCreated", "JobClaimed", "AccountCreated", "JobCompleted", "JobCancelled", "JobLeaseExpired",
                "JobReleased",
            ]))
        _ = try await f.service.rebuild()
        let rebuilt = try f.snapshot()
        #expect(rebuilt.head == live.head)
        #expect(rebuilt.digests == live.digests, "seed \(seed): rebuild differs from live")
    }

    /// Every claim token issued, per job, in order; and what stale tokens achieved.
    final class Attempts: Sendable {
        let tokens = Mutex<[UUID: [String]]>([:])
        /// Calls made with a token that was already stale when the call was made.
        let staleTries = Mutex(0)
        /// Such calls that succeeded: must stay empty.
        let staleSuccesses = Mutex<[String]>([])
    }

    /// One random command; returns the id of a job it created.
    func randomCommand(
        _ random: inout SplitMix, _ f: DomainFixture, knownJobs: [UUID], running: [UUID], attempts: Attempts
    ) -> @Sendable () async throws -> UUID? {
        let s = f.service
        let worker = "w\(random.next(upTo: 4))"
        // Mostly act on running jobs (as workers do), sometimes on any job (mostly refused).
        let pool = !running.isEmpty && random.next(upTo: 10) < 7 ? running : knownJobs
        let job = pool.isEmpty ? UUID() : pool[Int(random.next(upTo: UInt64(pool.count)))]
        let n = Int(random.next(upTo: 40))
        let choice = random.next(upTo: 14)
        let count = Int(random.next(upTo: 8))  // 0 and 7 are out of range (MAX_JOB_COUNT 6)
        let priority = Int(random.next(upTo: 12)) - 1
        let retry = random.next(upTo: 2) == 0
        let holder: @Sendable () -> String = { (try? s.job(job))?.workerID ?? worker }
        // The token a worker call sends: the latest attempt's, none (an older worker), or
        // one already stale — the case that must never succeed.
        let issued = attempts.tokens.withLock { $0[job] ?? [] }
        let tokenChoice = random.next(upTo: 3)
        let stale = tokenChoice == 2 && issued.count > 1
        let token: String? =
            stale ? issued[Int(random.next(upTo: UInt64(issued.count - 1)))] : tokenChoice == 0 ? issued.last : nil
        let staleCall: @Sendable (String, () async throws -> Void) async throws -> Void = { name, call in
            guard stale else { return try await call() }
            attempts.staleTries.withLock { $0 += 1 }
            try await call()
            attempts.staleSuccesses.withLock { $0.append("\(name) on \(job)") }
        }
        return {
            switch choice {
            case 0, 1: return try await s.createJob(CreateJob(count: count, priority: priority)).id
            case 2, 3:
                if let claim = try await s.claim(workerID: worker) {
                    attempts.tokens.withLock { $0[claim.job.id, default: []].append(claim.claimToken) }
                }
            case 4:
                try await staleCall("heartbeat") {
                    _ = try await s.heartbeat(jobID: job, workerID: holder(), claimToken: token)
                }
            case 5:
                try await staleCall("progress") {
                    _ = try await s.reportProgress(
                        ReportProgress(
                            jobID: job, workerID: holder(), progress: n % 7, successful: n, claimToken: token))
                }
            case 6, 7:
                try await staleCall("account") {
                    var command = account(job, worker: holder(), n)
                    command.claimToken = token
                    _ = try await s.recordAccount(command)
                }
            case 8:
                try await staleCall("release") {
                    _ = try await s.release(jobID: job, workerID: holder(), claimToken: token)
                }
            case 9:
                try await staleCall("complete") {
                    _ = try await s.complete(jobID: job, workerID: holder(), claimToken: token)
                }
            case 10:
                try await staleCall("fail") {
                    _ = try await s.fail(
                        jobID: job, workerID: holder(), claimToken: token, error: "flaky", retry: retry)
                }
            case 11: _ = try await s.cancel(jobID: job)
            case 12:
                _ = try await s.updateAccount(
                    UpdateAccount(accountID: Int64(n % 10 + 1), status: .active, email: "u\(n)@example.org"))
            default: try await s.deleteAccount(id: Int64(n % 10 + 1))
            }
            return nil
        }
    }

    func checkInvariants(_ f: DomainFixture, created: [UUID], context: String) throws {
        let p = f.service.projections
        try f.store.environment.read { txn in
            var jobs: [UUID: JobView] = [:]
            try scan(p.jobs.views, txn) { _, value in
                let job = try JobView(row: value)
                jobs[job.id] = job
            }
            var queued = Set<UUID>()
            try scan(p.jobs.queue, txn) { _, value in queued.insert(Keys.uuid(from: value)!) }
            var delayed = Set<UUID>()
            try scan(p.jobs.delayed, txn) { key, _ in delayed.insert(Keys.uuid(from: key[8..<24])!) }
            var leased = Set<UUID>()
            try scan(p.jobs.leases, txn) { key, _ in leased.insert(Keys.uuid(from: key[8..<24])!) }
            // No job lost; each in exactly one place.
            #expect(Set(created).isSubset(of: Set(jobs.keys)), "\(context): a created job is missing")
            #expect(queued.isDisjoint(with: leased), "\(context)")
            #expect(queued.isDisjoint(with: delayed) && delayed.isDisjoint(with: leased), "\(context)")
            for (id, job) in jobs {
                let waiting = job.status == .pending && job.availableAt != nil
                #expect(queued.contains(id) == (job.status == .pending && !waiting), "\(context): \(id) queue")
                #expect(delayed.contains(id) == waiting, "\(context): \(id) retry backoff")
                #expect(leased.contains(id) == (job.status == .running), "\(context): \(id) lease")
            }
            #expect(
                queued.union(leased).union(delayed).isSubset(of: Set(jobs.keys)),
                "\(context): index names an unknown job")

            // Counters equal a recount.
            var expected: [String: Int64] = ["total": Int64(jobs.count)]
            for job in jobs.values {
                expected["status.\(job.status.rawValue)", default: 0] += 1
                if job.status == .pending, job.availableAt == nil {
                    expected["queue.priority.\(job.priority)", default: 0] += 1
                }
                if job.status == .pending, job.availableAt != nil { expected["queue.delayed", default: 0] += 1 }
                if job.status == .running { expected["leases", default: 0] += 1 }
            }
            #expect(
                try p.jobs.counts(in: txn).filter { $0.value != 0 } == expected.filter { $0.value != 0 }, "\(context)")

            var accounts: [AccountView] = []
            try scan(p.accounts.views, txn) { _, value in accounts.append(try AccountView(row: value)) }
            var accountCounts: [String: Int64] = ["total": Int64(accounts.count)]
            for a in accounts { accountCounts["status.\(a.status.rawValue)", default: 0] += 1 }
            #expect(
                try p.accounts.counts(in: txn).filter { $0.value != 0 } == accountCounts.filter { $0.value != 0 },
                "\(context)")
            #expect(try p.accounts.nextID(in: txn) > accounts.map(\.id).max() ?? 0)

            // No account twice; no job beyond its count.
            #expect(Set(accounts.map { $0.email.lowercased() }).count == accounts.count, "\(context): duplicate email")
            #expect(
                Set(accounts.map { $0.username.lowercased() }).count == accounts.count, "\(context): duplicate username"
            )
            for (id, job) in jobs {
                let produced = accounts.filter { $0.jobID == id }.count
                #expect(produced <= job.count && produced <= job.progress, "\(context): job \(id) over count")
                // Deleted accounts leave the views but stay counted as recorded.
                #expect(
                    produced <= job.accountsRecorded && job.accountsRecorded <= job.count,
                    "\(context): job \(id) miscounts its accounts")
            }
            #expect(try txn.count(p.accounts.emails) == accounts.count)
            #expect(try txn.count(p.accounts.byJob) == accounts.count)
        }
    }

    func scan(_ database: Database, _ txn: any TransactionReading, _ body: ([UInt8], [UInt8]) throws -> Void) throws {
        try txn.withCursor(database) { cursor in
            var entry = try cursor.first()
            while let e = entry {
                try body(Array(e.key), Array(e.value))
                entry = try cursor.next()
            }
        }
    }
}
