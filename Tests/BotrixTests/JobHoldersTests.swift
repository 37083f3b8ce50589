import Foundation
import Testing

@testable import Botrix

/// A job's holders are bounded, and the bound never changes the answer they exist for:
/// whether the worker now holding the job held an earlier attempt.
@Suite("Job holders")
struct JobHoldersTests {
    @Test("random claim sequences: the list stays short and answers as the full one does for every recent holder")
    func boundedAnswersAsFull() {
        var random = SystemRandomNumberGenerator()
        let recentCount = JobView.keptHolders - 2
        for _ in 0..<20 {
            let pool = Int.random(in: 1...150, using: &random)
            var full: [String] = []
            var lastClaim: [String: Int] = [:]  // each worker's latest claim in `full`
            var bounded: [String] = []
            for step in 0..<1_000 {
                let worker = "w\(Int.random(in: 0..<pool, using: &random))"
                // The newest distinct holders before this claim, the worker among them or not.
                let recent = lastClaim.sorted { $0.value > $1.value }.prefix(recentCount).map(\.key)
                let heldEarlier = lastClaim[worker] != nil
                full.append(worker)
                lastClaim[worker] = step
                bounded = JobView.boundedHolders(bounded + [worker])
                #expect(bounded.count <= JobView.keptHolders)
                #expect(bounded.last == worker)
                if full.count <= JobView.keptHolders { #expect(bounded == full) }
                // The question the list answers, for the worker now holding the job: never a
                // yes for a worker that held nothing, and the full list's yes for every worker
                // among the newest holders (older ones may be forgotten, as documented).
                let answer = bounded.dropLast().contains(worker)
                if !heldEarlier { #expect(!answer) }
                if heldEarlier && recent.contains(worker) { #expect(answer, "\(worker) held an earlier attempt") }
                #expect(Set(bounded).isSubset(of: Set(full)))
                guard bounded.count <= JobView.keptHolders, bounded.last == worker else { return }
            }
        }
    }

    @Test(
        "500 claim and release rounds by one worker: the row stays small, a call without the token is still refused, rebuild equals live"
    )
    func claimReleaseLoop() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 1))
        var token = ""
        for _ in 0..<500 {
            let claimed = try #require(try await f.service.claim(workerID: "loop"))
            token = claimed.claimToken
            _ = try await f.service.release(jobID: job.id, workerID: "loop", claimToken: token)
        }
        let claimed = try #require(try await f.service.claim(workerID: "loop"))
        let view = try #require(try f.service.job(job.id))
        #expect(view.holders.count <= JobView.keptHolders)
        #expect(view.row().count < 2_000, "the job's row is \(view.row().count) bytes")
        // "loop" held earlier attempts: without this attempt's token it is refused.
        await #expect(throws: DomainError.self) {
            _ = try await f.service.heartbeat(jobID: job.id, workerID: "loop")
        }
        _ = try await f.service.heartbeat(jobID: job.id, workerID: "loop", claimToken: claimed.claimToken)
        let live = try f.snapshot()
        _ = try await f.service.rebuild()
        #expect(try f.snapshot().digests == live.digests)

        // A row written before the bound, with every claim's holder: read back, it is cut
        // claim by claim, exactly as a rebuild cuts it.
        var legacy = view
        legacy.holders = (0..<300).map { "w\($0 % 90)" }
        let read = try JobView(row: legacy.row())
        let rebuilt = legacy.holders.reduce(into: [String]()) { $0 = JobView.boundedHolders($0 + [$1]) }
        #expect(read.holders == rebuilt && read.holders.count <= JobView.keptHolders)
    }

    @Test("a worker forgotten after 70 other claimers still cannot act without its claim token")
    func forgottenHolderNeedsToken() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 1))
        let first = try #require(try await f.service.claim(workerID: "w0"))
        _ = try await f.service.release(jobID: job.id, workerID: "w0", claimToken: first.claimToken)
        for n in 1...70 {
            let claimed = try #require(try await f.service.claim(workerID: "w\(n)"))
            _ = try await f.service.release(jobID: job.id, workerID: "w\(n)", claimToken: claimed.claimToken)
        }
        let again = try #require(try await f.service.claim(workerID: "w0"))
        let view = try #require(try f.service.job(job.id))
        #expect(!view.holders.dropLast().contains("w0"), "w0 is forgotten by the bounded list")
        #expect(view.holdersMayBeIncomplete)
        // The old token is stale; no token is refused as well: the list lost the evidence.
        await #expect(throws: DomainError.self) {
            _ = try await f.service.heartbeat(jobID: job.id, workerID: "w0", claimToken: first.claimToken)
        }
        await #expect(throws: DomainError.self) {
            _ = try await f.service.heartbeat(jobID: job.id, workerID: "w0")
        }
        _ = try await f.service.heartbeat(jobID: job.id, workerID: "w0", claimToken: again.claimToken)
    }

    @Test("a list below the bound forgot nobody; one cut to the bound is at it")
    func incompleteOnlyAtTheBound() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var full: [String] = []
            var bounded: [String] = []
            for _ in 0..<Int.random(in: 1...300, using: &random) {
                let worker = "w\(Int.random(in: 0..<90, using: &random))"
                full.append(worker)
                bounded = JobView.boundedHolders(bounded + [worker])
            }
            let forgotSomeone = Set(full.dropLast()) != Set(bounded.dropLast())
            if forgotSomeone { #expect(bounded.count == JobView.keptHolders, "\(bounded.count)") }
        }
    }
}
