import EventLog
import Foundation
import TestSupport
import Testing

@testable import Botrix

@Suite("Replay as of a moment")
struct ReplayTests {
    @Test("replay at random points equals a hand fold of the events, and equals the live projections at the head")
    func replayMatches() async throws {
        let f = try await DomainFixture.make(leaseSeconds: 30, maxAttempts: 2)
        let s = f.service
        var random = SplitMix(seed: 5)
        var jobs: [UUID] = []
        for round in 0..<60 {
            switch random.next(upTo: 5) {
            case 0, 1: jobs.append(try await s.createJob(CreateJob(count: 3, priority: Int(random.next(upTo: 3)))).id)
            case 2:
                if let job = try await s.claimNext(workerID: "w\(round % 3)") {
                    _ = try? await s.recordAccount(account(job.id, worker: job.workerID!, round))
                }
            case 3:
                if let job = jobs.randomElement(using: &random) { _ = try? await s.cancel(jobID: job) }
            default:
                f.clock.advance(seconds: 20)
                _ = try await s.expireDueLeases()
            }
        }
        let all = try f.store.log.read(after: 0, limit: .max)
        #expect(all.count > 30)
        for _ in 0..<25 {
            let cut = UInt64(random.next(upTo: UInt64(all.count))) + 1
            // By hand: route each event to its job or account and evolve.
            var jobsByHand: [UUID: JobView] = [:]
            var accountsByHand: [Int64: AccountView] = [:]
            for recorded in all.prefix(Int(cut)) {
                let event = try #require(try DomainEvent(recorded))
                let position = EventPosition(recorded)
                if let id = event.jobID {
                    jobsByHand[id] = JobView.evolve(jobsByHand[id], event, position) ?? jobsByHand[id]
                }
                if let id = event.accountID {
                    accountsByHand[id] = AccountView.evolve(accountsByHand[id], event, position)
                }
            }
            let replayed = try ReplayState.fold(f.store.log, upTo: .sequence(cut))
            #expect(replayed.jobs == jobsByHand && replayed.accounts == accountsByHand.compactMapValues { $0 })
            #expect(replayed.sequence == cut)
            if let job = jobsByHand.keys.first {
                #expect(
                    try ReplayState.fold(f.store.log, upTo: .sequence(cut), job: job).jobs == [job: jobsByHand[job]!])
            }
            let byTime = try ReplayState.fold(f.store.log, upTo: .time(all[Int(cut) - 1].recordedAt))
            #expect(byTime.sequence >= cut)  // every event of the same millisecond is included
        }
        let atHead = try ReplayState.fold(f.store.log, upTo: .sequence(UInt64(all.count)))
        for (id, job) in atHead.jobs { #expect(try s.job(id) == job) }
        for (id, account) in atHead.accounts { #expect(try s.account(id) == account) }
        #expect(try s.jobStats().total == Int64(atHead.jobs.count))
        #expect(try s.accountStats().total == Int64(atHead.accounts.count))
    }
}
