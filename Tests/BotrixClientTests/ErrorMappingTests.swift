import BotrixClient
import Foundation
import TestSupport
import Testing

/// How the server's answers map to ``BotrixError``, against the built server.
@Suite("Swift client: errors and idempotency, live", .serialized)
struct ErrorMappingTests {
    @Test("404, 400, 422, 412 and 409 answers become .problem with their status, type and detail")
    func problems() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("problems.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))

        let missing = await caught { try await client.job("00000000-0000-0000-0000-000000000000") }
        let notFound = try #require(missing?.asProblem, "\(String(describing: missing))")
        #expect(notFound.status == 404)
        #expect(notFound.type == "/problems/not-found")
        #expect(notFound.detail.contains("00000000-0000-0000-0000-000000000000"))
        #expect(missing?.isNotFound == true)
        #expect(missing?.isTransient == false)

        let malformed = await caught { try await client.job("not-a-uuid") }
        #expect(malformed?.status == 400)
        #expect(malformed?.asProblem?.type == "/problems/bad-request")

        let refused = await caught { try await client.createJob(count: 0) }
        let invalid = try #require(refused?.asProblem, "\(String(describing: refused))")
        #expect(invalid.status == 422)
        #expect(invalid.type == "/problems/validation-failed")
        #expect(invalid.errors.map(\.field) == ["count"])
        #expect(invalid.isValidation)

        let created = try await client.createJob(count: 1)
        let stale = await caught { try await client.cancel(created.jobID, ifMatch: "\"99-0\"") }
        #expect(stale?.status == 412)
        #expect(stale?.asProblem?.isPreconditionFailed == true)
        let job = try await client.job(created.jobID)
        #expect(try await client.cancel(created.jobID, reason: "test", ifMatch: job.etag).status == .cancelled)
        let twice = await caught { try await client.cancel(created.jobID) }
        #expect(twice?.isConflict == true)
        #expect(twice?.asProblem?.type == "/problems/conflict")
        #expect(twice?.detail.contains("cancelled") == true, "\(String(describing: twice))")
        #expect(server.stop())
    }

    @Test("a stale claim token gets 409 and changes nothing; the real token still acts")
    func staleClaimToken() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("stale.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        let created = try await client.createJob(count: 2)
        let claim = try #require(try await client.claim(workerID: "w-stale", leaseSeconds: patientLease))
        #expect(claim.jobID == created.jobID)
        #expect(claim.workerID == "w-stale")
        #expect(claim.claimToken.hasPrefix("ct_"))
        #expect(claim.attempt == 1)
        #expect(claim.leaseSeconds == patientLease)
        #expect(claim.leaseExpiresAt != nil)

        let forged = ClaimedAttempt(
            jobID: claim.jobID, workerID: "w-stale", claimToken: "ct_" + String(repeating: "0", count: 48))
        let conflict = await caught { try await client.heartbeat(forged) }
        #expect(conflict?.isConflict == true, "\(String(describing: conflict))")
        #expect(conflict?.asProblem?.type == "/problems/stale-attempt")
        #expect(conflict?.saysCancelled == false)
        #expect(conflict?.detail.contains("stale attempt") == true, "\(String(describing: conflict))")
        let refused = await caught { try await client.recordAccount(forged, fakeAccount("stale")) }
        #expect(refused?.status == 409)
        #expect(try await accounts(of: created.jobID, client).isEmpty, "a stale token recorded an account")

        let beat = try await client.heartbeat(claim)
        #expect(beat.instruction == .`continue`)
        #expect(beat.job.status == .running)
        let released = try await client.release(claim, reason: "test")
        #expect(released.status == .pending)
        let late = await caught { try await client.complete(claim) }
        #expect(late?.isConflict == true, "the released attempt's token still acted")
        let next = try #require(try await client.claim(workerID: "w-stale-2", leaseSeconds: patientLease))
        #expect(next.jobID == created.jobID)
        #expect(next.claimToken != claim.claimToken)
        #expect(server.stop())
    }

    @Test("an Idempotency-Key replays the first answer; the same key with another body is refused")
    func idempotency() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("idempotency.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        let first = try await client.createJob(count: 2, idempotencyKey: "same-key-create")
        let again = try await client.createJob(count: 2, idempotencyKey: "same-key-create")
        #expect(again.jobID == first.jobID)
        let reused = await caught { try await client.createJob(count: 3, idempotencyKey: "same-key-create") }
        #expect(reused?.asProblem?.isIdempotencyKeyReused == true, "\(String(describing: reused))")
        #expect(try await client.stats().total == 1)

        let claim = try #require(try await client.claim(workerID: "w-key", leaseSeconds: patientLease))
        let account = fakeAccount("key")
        let options = CallOptions(idempotencyKey: "record-1")
        let recorded = try await client.recordAccount(claim, account, options: options)
        let replayed = try await client.recordAccount(claim, account, options: options)
        #expect(replayed.id == recorded.id)
        #expect(try await accounts(of: claim.jobID, client).count == 1)
        #expect(server.stop())
    }

    @Test("an unreachable server is a transport error, thrown after the retries")
    func unreachable() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("gone.mdb"))
        let url = server.baseURL
        #expect(server.stop())  // its port now refuses connections
        let client = BotrixClient(
            baseURL: url, retry: RetryPolicy(maxRetries: 1, baseDelay: .milliseconds(10)),
            requestTimeout: .seconds(1))
        let failure = try await bounded(30, "the call to give up") { await caught { try await client.stats() } }
        guard case .transport = try #require(failure) else {
            Issue.record("expected a transport error, got \(String(describing: failure))")
            return
        }
        #expect(failure?.status == nil)
        #expect(failure?.isTransient == true)
    }
}
