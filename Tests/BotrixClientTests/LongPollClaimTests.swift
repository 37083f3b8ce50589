import BotrixClient
import Foundation
import TestSupport
import Testing

/// Long-poll claims through the Swift client.
@Suite("Swift client: long-poll claims, live", .serialized)
struct LongPollClaimTests {
    @Test("a long-poll claim with no work returns nil after its wait and leases nothing")
    func emptyQueueReturnsNil() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("empty.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))

        let claim = try await bounded(20, "the empty claim") {
            try await client.claim(workerID: "w-idle", leaseSeconds: 30, waitSeconds: 1)
        }
        #expect(claim == nil)
        let batch = try await bounded(20, "the empty batch claim") {
            try await client.claim(workerID: "w-idle", waitSeconds: 1, maxJobs: 4)
        }
        #expect(batch.isEmpty)

        let created = try await client.createJob(count: 1)
        try await Task.sleep(for: .milliseconds(300))
        let job = try await client.job(created.jobID)
        #expect(job.status == .pending, "a claim that had returned took the job")
        #expect(job.attempts == 0)
        #expect(server.stop())
    }

    @Test("a waiting claim gets the job created while it waits")
    func waitingClaimGetsNewJob() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("wait.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        let metrics = "\(server.baseURL)/metrics"

        let waiting = Task { try await client.claim(workerID: "w-wait", leaseSeconds: patientLease, waitSeconds: 30) }
        let isWaiting = await eventually(patience) {
            (try? curl([metrics]).output.contains("botrix_claims_waiting 1")) ?? false
        }
        try #require(isWaiting, "the claim never started waiting")
        let created = try await client.createJob(count: 1)
        let claimed = try await bounded(patience, "the waiting claim") {
            try await valueOf(waiting)
        }

        let claim = try #require(claimed)
        #expect(claim.jobID == created.jobID)
        #expect(claim.workerID == "w-wait")
        #expect(claim.attempt == 1)
        #expect(claim.leaseSeconds == patientLease)
        #expect(claim.job.status == .running)
        #expect(try await client.job(created.jobID).workerID == "w-wait")
        #expect(server.stop())
    }
}
