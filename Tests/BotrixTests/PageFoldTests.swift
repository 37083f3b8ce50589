import EventLog
import Foundation
import Storage
import TestSupport
import Testing

@testable import Botrix

/// Replays fold a page at a time (the jobs projection keeps each job's view in memory
/// through the page; both projections sum counter changes); these hold that to applying the same events
/// one by one, as the write path does, byte for byte — including worker ids that a view's
/// row does not keep as they are (empty, or with a line break) and a negative lease length.
@Suite("Page fold of a replay")
struct PageFoldTests {
    /// Appends `events` to the log only (no projection sees them) and returns them as recorded.
    static func record(_ events: [DomainEvent], in store: BotrixStore) throws -> [RecordedEvent] {
        try store.environment.write { txn in
            var ltx = LogTransaction(log: store.log, transaction: txn, now: 1_767_323_045_678)
            for event in events {
                let stream = event.accountID.map(Streams.account) ?? Streams.job(event.jobID!)
                _ = try ltx.append(
                    AppendRequest(
                        stream: stream, events: [ProposedEvent(type: event.type, data: try event.encodedData())]))
            }
        }
        return try store.log.read(after: 0, limit: .max)
    }

    /// A random job history over a few jobs: claims (by awkward workers too), accounts,
    /// progress, failures with and without retry, releases, cancellations, completions; lease
    /// and retry times that do not parse; and jobs created again.
    static func randomEvents(_ random: inout SplitMix, count: Int) -> [DomainEvent] {
        let jobs = (0..<4).map { _ in UUID() }
        let workers = ["w1", "w2", "", "a\nb", "line\n", "ünï"]
        // Claims and renewals move leases between times (their index entries with them).
        let leases = [
            "2026-01-02T03:09:05.678Z", "2026-01-02T03:19:05.678Z", "2026-01-02T02:59:05.000Z", "not a time",
        ]
        var nextAccount: Int64 = 1
        var accounts: [(id: Int64, job: UUID)] = []
        var events: [DomainEvent] = jobs.map {
            .jobCreated(
                JobCreated(jobID: $0, count: 5, priority: Int(random.next(upTo: 3)), verificationEnabled: false))
        }
        // A job created again: a log the deciders never write, which a replay still folds as the
        // live path does (the view starts afresh; the by-creation entry stays at the first
        // creation). Right after the first, so that a page often holds both.
        events.append(.jobCreated(JobCreated(jobID: jobs[0], count: 7, priority: 2, verificationEnabled: true)))
        for _ in 0..<count {
            let job = jobs[Int(random.next(upTo: UInt64(jobs.count)))]
            if random.next(upTo: 60) == 0 {
                events.append(.jobCreated(JobCreated(jobID: job, count: 3, priority: 1, verificationEnabled: false)))
                continue
            }
            let worker = workers[Int(random.next(upTo: UInt64(workers.count)))]
            if !accounts.isEmpty, random.next(upTo: 4) == 0 {
                // Account histories: status and identity changes, deletions (the counters that
                // go up and down again within a page).
                let (account, owner) = accounts[Int(random.next(upTo: UInt64(accounts.count)))]
                if random.next(upTo: 3) == 0 {
                    events.append(.accountDeleted(AccountDeleted(accountID: account, jobID: owner)))
                } else {
                    let status = AccountStatus.allCases[Int(random.next(upTo: UInt64(AccountStatus.allCases.count)))]
                    let renamed = random.next(upTo: 2) == 0 ? "r\(account)-\(random.next(upTo: 3))@Example.com" : nil
                    events.append(
                        .accountUpdated(AccountUpdated(accountID: account, status: status, email: renamed)))
                }
                continue
            }
            switch random.next(upTo: 9) {
            case 0, 1:
                let seconds: Int? = random.next(upTo: 4) == 0 ? -5 : Int(random.next(upTo: 600))
                events.append(
                    .jobClaimed(
                        JobClaimed(
                            jobID: job, workerID: worker,
                            leaseExpiresAt: leases[Int(random.next(upTo: UInt64(leases.count)))],
                            attempt: Int(random.next(upTo: 3)) + 1,
                            leaseSeconds: seconds)))
            case 2, 3:
                events.append(
                    .accountCreated(
                        AccountCreated(
                            accountID: nextAccount, jobID: job, workerID: worker, email: "u\(nextAccount)@example.com",
                            username: "u\(nextAccount)", password: "p", birthdate: "1990-01-01", status: .pending,
                            accountData: [:])))
                accounts.append((nextAccount, job))
                nextAccount += 1
            case 4:
                let renewal = random.next(upTo: 2) == 0 ? leases[Int(random.next(upTo: UInt64(leases.count)))] : nil
                events.append(
                    .progressUpdated(
                        ProgressUpdated(jobID: job, workerID: worker, successful: 1, leaseExpiresAt: renewal)))
            case 5:
                let retry = random.next(upTo: 2) == 0
                events.append(
                    .jobFailed(
                        JobFailed(
                            jobID: job, workerID: worker, error: "boom", requeued: retry,
                            availableAt: retry
                                ? [nil, "2026-01-02T03:05:00.000Z", "soon"][Int(random.next(upTo: 3))] : nil
                        )))
            case 6: events.append(.jobReleased(JobReleased(jobID: job, workerID: worker)))
            case 7: events.append(.jobCancelled(JobCancelled(jobID: job, reason: "enough")))
            default: events.append(.jobCompleted(JobCompleted(jobID: job, workerID: worker)))
            }
        }
        return events
    }

    @Test("random histories, random page sizes: page fold equals event by event", arguments: [1, 2, 3, 4, 5])
    func pageEqualsOneByOne(seed: UInt64) throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("botrix.mdb"), mapSize: 1 << 26, durability: .nosync))
        let projections = try Projections(store: store)
        var random = SplitMix(seed: seed)
        let recorded = try Self.record(Self.randomEvents(&random, count: 300), in: store)

        func digests(_ fold: (inout LogTransaction) throws -> Void) throws -> [String: String] {
            try store.environment.write { txn in
                var ltx = LogTransaction(log: store.log, transaction: txn, now: 0)
                try projections.reset(in: &ltx)
                try fold(&ltx)
            }
            return try store.environment.read { try projections.digests(in: $0) }
        }
        let oneByOne = try digests { ltx in
            for event in recorded { try projections.apply(event, nil, in: &ltx) }
        }
        let paged = try digests { ltx in
            var rest = recorded[...]
            while !rest.isEmpty {
                let size = Int(random.next(upTo: 40)) + 1
                try projections.apply(page: Array(rest.prefix(size)), in: &ltx)
                rest = rest.dropFirst(size)
            }
        }
        let differing = Set(paged.keys).union(oneByOne.keys).filter { paged[$0] != oneByOne[$0] }.sorted()
        #expect(differing.isEmpty, "seed \(seed): these databases differ: \(differing)")
        #expect(oneByOne.count == projections.databases.count)
        // The histories reached the cases that matter: views whose row does not keep them.
        let views = try store.environment.read { txn in
            try Set(recordedJobs(recorded)).compactMap { try projections.jobs.view($0, in: txn) }
        }
        #expect(views.count == 4)
        let awkward = recorded.contains {
            $0.type == "JobClaimed" && String(decoding: $0.data, as: UTF8.self).contains("\\n")
        }
        #expect(awkward, "seed \(seed): no claim by a worker id with a line break")
        #expect(recorded.contains { $0.type == "AccountDeleted" } && recorded.contains { $0.type == "AccountUpdated" })
    }

    @Test("a job evolved in place equals the job evolved by value, step by step", arguments: [6, 7, 8])
    func inPlaceEqualsByValue(seed: UInt64) throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("botrix.mdb"), mapSize: 1 << 26, durability: .nosync))
        var random = SplitMix(seed: seed)
        var events = Self.randomEvents(&random, count: 300)
        // A job created again mid-history: evolve starts it afresh, in place too.
        events.insert(events[0], at: 150)
        let page = try Projections.decode(page: try Self.record(events, in: store))
        var byValue: [UUID: JobView] = [:]
        var inPlace: [UUID: JobView] = [:]
        var steps = 0
        for decoded in page {
            let (event, position) = (decoded.event, decoded.position)
            guard let id = event.jobID else { continue }
            byValue[id] = JobView.evolve(byValue[id], event, position)
            if inPlace[id] != nil {
                JobView.evolve(&inPlace[id]!, event, position)
                steps += 1
            } else {
                inPlace[id] = JobView.evolve(nil, event, position)
            }
            #expect(inPlace[id] == byValue[id], "seed \(seed): \(event.type) at \(position.sequence)")
        }
        #expect(steps > 200)
    }

    private func recordedJobs(_ recorded: [RecordedEvent]) throws -> [UUID] {
        try recorded.filter { $0.type == "JobCreated" }.compactMap { try DomainEvent($0)?.jobID }
    }
}
