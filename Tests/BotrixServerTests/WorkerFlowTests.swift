import BotrixServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Botrix

@Suite("Worker flow over HTTP")
struct WorkerFlowTests {
    @Test("create, claim, heartbeat, progress, count accounts, complete; stats, lists and events show it")
    func fullFlow() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let created = try await client.call(
                .post, "/api/jobs", json: #"{"count":2,"priority":"high","verification_enabled":true}"#)
            #expect(created.status == .created)
            let jobID = try #require(created.body?["job_id"] as? String)
            #expect(created.body?["status"] as? String == "pending" && created.body?["count"] as? Int == 2)
            #expect(created.headers[.location] == "/api/jobs/\(jobID)")

            let queue = try await client.call(.get, "/api/queue")
            #expect((queue.body?["data"] as? [[String: Any]])?.first?["id"] as? String == jobID)

            let claim = try await client.call(
                .post, "/api/queue/claim", json: #"{"worker_id":"w1","lease_seconds":120}"#)
            #expect(claim.status == .ok)
            let claimedJob = try #require(claim.body?["job"] as? [String: Any])
            #expect(claimedJob["id"] as? String == jobID && claimedJob["status"] as? String == "running")
            #expect(claim.body?["lease_expires_at"] as? String == "2026-01-02T03:06:05.678Z")
            #expect(try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w2"}"#).status == .noContent)

            #expect(
                try await client.call(.post, "/api/jobs/\(jobID)/heartbeat", json: #"{"worker_id":"w1"}"#).status == .ok
            )
            let progress = try await client.call(
                .post, "/api/jobs/\(jobID)/progress", json: #"{"worker_id":"w1","successful":1,"message":"half way"}"#)
            #expect(progress.status == .ok && progress.body?["message"] as? String == "half way")
            for n in 1...2 {
                let account = try await client.call(
                    .post, "/api/jobs/\(jobID)/accounts",
                    json:
                        #"{"worker_id":"w1","email":"u\#(n)@example.com","username":"user\#(n)","password":"pass-word-\#(n)","birthdate":"1991-03-0\#(n)","account_data":{"n":\#(n)}}"#
                )
                #expect(account.status == .created && account.body?["id"] as? Int == n)
                #expect(account.body?["password"] == nil)
            }
            let third = try await client.call(
                .post, "/api/jobs/\(jobID)/accounts",
                json:
                    #"{"worker_id":"w1","email":"u3@example.com","username":"user3","password":"pass-word-3","birthdate":"1991-03-03"}"#
            )
            #expect(third.status == .conflict && third.headers[.contentType] == "application/problem+json")

            let other = try await client.call(.post, "/api/jobs/\(jobID)/complete", json: #"{"worker_id":"w2"}"#)
            #expect(other.status == .conflict)
            let done = try await client.call(.post, "/api/jobs/\(jobID)/complete", json: #"{"worker_id":"w1"}"#)
            #expect(
                done.status == .ok && done.body?["status"] as? String == "completed"
                    && done.body?["percentage"] as? Double == 100)

            let job = try await client.call(.get, "/api/jobs/\(jobID)")
            #expect(
                job.body?["progress"] as? Int == 2
                    && job.headers[.eTag] == "\"\(job.body?["version"] as? Int ?? -1)-2\"")
            let stats = try await client.call(.get, "/api/jobs/stats")
            #expect(
                stats.body?["total"] as? Int == 1 && (stats.body?["by_status"] as? [String: Int])?["completed"] == 1)
            #expect(stats.body?["success_rate"] as? Double == 1)
            let accounts = try await client.call(.get, "/api/accounts?page=1&limit=1&job_id=\(jobID)")
            let pagination = accounts.body?["pagination"] as? [String: Any]
            #expect(pagination?["total"] as? Int == 2 && pagination?["pages"] as? Int == 2)
            #expect(pagination?["page"] as? Int == 1 && pagination?["limit"] as? Int == 1)
            // The cursor of the first page leads to the second (older) account, and no further.
            let cursor = try #require(pagination?["next"] as? String)
            let second = try await client.call(.get, "/api/accounts?limit=1&job_id=\(jobID)&after=\(cursor)")
            #expect(((second.body?["data"] as? [[String: Any]])?.first?["id"] as? Int) == 1)
            #expect((second.body?["pagination"] as? [String: Any])?["next"] is NSNull)
            #expect((try await client.call(.get, "/api/accounts/stats")).body?["total"] as? Int == 2)
            let revealed = try await client.call(.get, "/api/accounts/1?reveal=password")
            #expect(revealed.body?["password"] as? String == "pass-word-1")
            let events = try await client.call(.get, "/api/jobs/\(jobID)/events")
            let types = (events.body?["data"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
            // The heartbeat renewed in memory; only the progress report is an event.
            #expect(types == ["JobCreated", "JobClaimed", "ProgressUpdated", "JobCompleted"])
            let all = try await client.call(.get, "/api/events?type=AccountCreated")
            #expect((all.body?["data"] as? [[String: Any]])?.count == 2)
            #expect((try await client.call(.get, "/api/accounts/2/events")).status == .ok)
        }
    }

    @Test("cancelling a running job makes the worker's next call answer 409; an expired lease puts the job back")
    func cancelAndExpiry() async throws {
        let h = try APIHarness(leaseSeconds: 30)
        try await h.app().test(.router) { client in
            let a = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            let b = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w1"}"#)
            let cancel = try await client.call(.post, "/api/jobs/\(a)/cancel", json: #"{"reason":"not needed"}"#)
            #expect(cancel.status == .ok && cancel.body?["status"] as? String == "cancelled")
            let beat = try await client.call(.post, "/api/jobs/\(a)/heartbeat", json: #"{"worker_id":"w1"}"#)
            #expect(beat.status == .ok && beat.body?["instruction"] as? String == "cancel")
            let next = try await client.call(.post, "/api/jobs/\(a)/complete", json: #"{"worker_id":"w1"}"#)
            #expect(next.status == .conflict && (next.body?["detail"] as? String)?.contains("cancelled") == true)
            #expect(next.body?["type"] as? String == "/problems/job-cancelled")
            #expect(try await client.call(.post, "/api/jobs/\(a)/cancel").status == .conflict)

            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w2"}"#)
            h.clock.advance(seconds: 31)
            // The application's own lease monitor may get there first; either way, once.
            let service = try await BotrixService(store: h.store, writer: h.writer)
            _ = try await service.expireDueLeases()
            let expiries = try h.store.log.read(after: 0, limit: 100).filter { $0.type == "JobLeaseExpired" }
            #expect(expiries.count == 1 && expiries.first?.stream == "job-\(b)")
            let back = try await client.call(.get, "/api/jobs/\(b)")
            #expect(back.body?["status"] as? String == "pending" && back.body?["attempts"] as? Int == 1)
            let again = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w3"}"#)
            #expect((again.body?["job"] as? [String: Any])?["id"] as? String == b)
        }
    }

    @Test("the older PUT /api/jobs/{id} reports progress and completes for the named holder; unnamed, it is refused")
    func legacyPut() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let id = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":3}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"old"}"#)
            // Without a name it could act for any attempt: refused, nothing appended.
            let head = h.head
            let unnamed = try await client.call(.put, "/api/jobs/\(id)", json: #"{"progress":2}"#)
            #expect(unnamed.status == .conflict && h.head == head)
            let progress = try await client.call(
                .put, "/api/jobs/\(id)", json: #"{"progress":2,"worker_id":"old"}"#)
            #expect(progress.status == .ok && progress.body?["progress"] as? Int == 2)
            let done = try await client.call(
                .put, "/api/jobs/\(id)", json: #"{"status":"completed","worker_id":"old"}"#)
            #expect(done.body?["status"] as? String == "completed")
            #expect(
                try await client.call(.put, "/api/jobs/\(id)", json: #"{"status":"weird"}"#).status
                    == .unprocessableContent)
        }
    }
}
