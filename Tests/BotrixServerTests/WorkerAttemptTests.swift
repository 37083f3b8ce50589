import BotrixServer
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Botrix

/// Attempts are told apart by their claim token: a stale attempt — same worker id, a
/// restarted process — cannot act on the job once it was claimed again.
@Suite("Worker attempts")
struct WorkerAttemptTests {
    static func json(_ fields: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: fields, options: .sortedKeys), as: UTF8.self)
    }

    @Test("a stale attempt's heartbeat, progress, account, complete and PUT all answer 409 and append nothing")
    func staleAttempt() async throws {
        let h = try APIHarness(leaseSeconds: 30)
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":2}"#).body?["job_id"] as? String)
            let first = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            let old = try #require(first.body?["claim_token"] as? String)
            #expect(first.body?["attempt"] as? Int == 1)
            h.clock.advance(seconds: 31)
            let service = try await BotrixService(store: h.store, writer: h.writer)
            _ = try await service.expireDueLeases()
            let second = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            let current = try #require(second.body?["claim_token"] as? String)
            #expect(second.body?["attempt"] as? Int == 2 && current != old)
            let head = h.head
            let stale: [(String, [String: Any])] = [
                ("heartbeat", [:]), ("progress", ["progress": 1]),
                (
                    "accounts",
                    [
                        "email": "s@example.com", "username": "stale", "password": "password1",
                        "birthdate": "1990-01-01",
                    ]
                ), ("complete", [:]), ("fail", ["error": "x"]), ("release", [:]),
            ]
            for (route, fields) in stale {
                for token in [old, nil] {
                    var body = fields
                    body["worker_id"] = "w"
                    if let token { body["claim_token"] = token }
                    let answer = try await client.call(.post, "/api/jobs/\(job)/\(route)", json: Self.json(body))
                    #expect(answer.status == .conflict, "\(route) with \(token == nil ? "no token" : "the old token")")
                    #expect(answer.headers[.contentType] == "application/problem+json")
                    // The type names why: the old token is stale; without one, "w" held an earlier attempt.
                    let type = token == nil ? "/problems/claim-token-required" : "/problems/stale-attempt"
                    #expect(answer.body?["type"] as? String == type, "\(route): \(answer.body ?? [:])")
                }
            }
            for put in [
                ["worker_id": "w", "claim_token": old, "status": "completed"],
                ["worker_id": "w", "status": "completed"],
                ["status": "completed"],
            ] {
                #expect(try await client.call(.put, "/api/jobs/\(job)", json: Self.json(put)).status == .conflict)
            }
            #expect(h.head == head, "a stale call appended")
            // The current attempt, with its token, is served.
            let beat = try await client.call(
                .post, "/api/jobs/\(job)/heartbeat", json: Self.json(["worker_id": "w", "claim_token": current]))
            #expect(beat.status == .ok && beat.body?["instruction"] as? String == "continue")
        }
    }

    @Test("a claim for 3600 s stays 3600 s long at every heartbeat; a renewal may ask for a longer one")
    func honestLease() async throws {
        let h = try APIHarness(leaseSeconds: 300)
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            let claim = try await client.call(
                .post, "/api/queue/claim", json: #"{"worker_id":"w","lease_seconds":3600}"#)
            let token = try #require(claim.body?["claim_token"] as? String)
            #expect(claim.body?["lease_seconds"] as? Int == 3600)
            for _ in 0..<3 {
                h.clock.advance(seconds: 100)
                let beat = try await client.call(
                    .post, "/api/jobs/\(job)/heartbeat", json: Self.json(["worker_id": "w", "claim_token": token]))
                let expires = try #require(beat.body?["lease_expires_at"] as? String)
                #expect(expires == Timestamp.rfc3339(milliseconds: h.clock.now + 3_600_000))
            }
            // A renewal may ask for a longer lease (never a shorter one than it holds).
            let longer = try await client.call(
                .post, "/api/jobs/\(job)/heartbeat",
                json: Self.json(["worker_id": "w", "claim_token": token, "lease_seconds": 7200]))
            #expect(
                longer.body?["lease_expires_at"] as? String == Timestamp.rfc3339(milliseconds: h.clock.now + 7_200_000))
        }
    }

    @Test(
        "a cancel reaches the worker in its heartbeat answer; a release gives the job back without spending an attempt")
    func cancelAndRelease() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let a = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1,"priority":"high"}"#).body?["job_id"]
                    as? String)
            let b = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            let claimA = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            let tokenA = try #require(claimA.body?["claim_token"] as? String)
            _ = try await client.call(.post, "/api/jobs/\(a)/cancel")
            let head = h.head
            let beat = try await client.call(
                .post, "/api/jobs/\(a)/heartbeat", json: Self.json(["worker_id": "w", "claim_token": tokenA]))
            #expect(beat.status == .ok && beat.body?["instruction"] as? String == "cancel")
            #expect(beat.body?["lease_expires_at"] is NSNull && h.head == head)

            let claimB = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            let tokenB = try #require(claimB.body?["claim_token"] as? String)
            #expect((claimB.body?["job"] as? [String: Any])?["id"] as? String == b)
            let released = try await client.call(
                .post, "/api/jobs/\(b)/release",
                json: Self.json(["worker_id": "w", "claim_token": tokenB, "reason": "shutting down"]))
            #expect(released.status == .ok && released.body?["status"] as? String == "pending")
            #expect(released.body?["attempts"] as? Int == 0)
            let again = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w2"}"#)
            #expect((again.body?["job"] as? [String: Any])?["id"] as? String == b)
            #expect(again.body?["attempt"] as? Int == 1)
            // The released attempt's token no longer acts.
            let late = try await client.call(
                .post, "/api/jobs/\(b)/complete", json: Self.json(["worker_id": "w", "claim_token": tokenB]))
            #expect(late.status == .conflict && late.body?["type"] as? String == "/problems/stale-attempt")
        }
    }

    @Test("the attempt is bound to the key that claimed: another work key with the token gets 409")
    func boundToKey() async throws {
        let h = try APIHarness()
        let a = try h.key(.work, .operate, name: "a")
        let b = try h.key(.work, name: "b")
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: a).body?["job_id"] as? String)
            let claim = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: a)
            let token = try #require(claim.body?["claim_token"] as? String)
            let body = Self.json(["worker_id": "w", "claim_token": token])
            let other = try await client.call(.post, "/api/jobs/\(job)/complete", json: body, headers: b)
            #expect(other.status == .conflict && (other.body?["detail"] as? String)?.contains("API key") == true)
            #expect(other.body?["type"] as? String == "/problems/claimed-by-another-key")
            #expect(try await client.call(.post, "/api/jobs/\(job)/complete", json: body, headers: a).status == .ok)
        }
    }

    @Test("the older PUT with an Idempotency-Key applies progress and completion whole, once")
    func legacyPutIdempotent() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":2}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"old"}"#)
            let body = #"{"progress":1,"status":"completed","worker_id":"old"}"#
            let first = try await client.call(.put, "/api/jobs/\(job)", json: body, headers: [.idempotencyKey: "put-1"])
            #expect(first.status == .ok && first.headers[.idempotentReplayed] == nil)
            #expect(first.body?["status"] as? String == "completed" && first.body?["progress"] as? Int == 1)
            let head = h.head
            let again = try await client.call(.put, "/api/jobs/\(job)", json: body, headers: [.idempotencyKey: "put-1"])
            #expect(again.headers[.idempotentReplayed] == "true" && again.text == first.text && h.head == head)
            let events = try h.store.log.readStream("job-\(job)").map(\.type)
            #expect(events.suffix(2) == ["ProgressUpdated", "JobCompleted"])
        }
    }

    @Test("metrics show claims waiting, claim wait times, the oldest pending job's age, lease expiries and retries")
    func queueMetrics() async throws {
        let h = try APIHarness(leaseSeconds: 30)
        try await h.app().test(.router) { client in
            // A claim that waits a second for nothing.
            let empty = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w","wait_seconds":1}"#)
            #expect(empty.status == .noContent)
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            let claim = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w","wait_seconds":1}"#)
            let token = try #require(claim.body?["claim_token"] as? String)
            _ = try await client.call(
                .post, "/api/jobs/\(job)/fail",
                json: Self.json(["worker_id": "w", "claim_token": token, "error": "x", "retry": true]))
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            h.clock.advance(seconds: 31)
            let service = try await BotrixService(store: h.store, writer: h.writer)
            _ = try await service.expireDueLeases()
            _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#)
            let metrics = try await client.call(.get, "/metrics").text
            for series in [
                "botrix_claims_waiting", "botrix_claim_wait_seconds", "botrix_oldest_pending_job_age_seconds",
                "botrix_job_retries_total 1",
            ] {
                #expect(metrics.contains(series), "no \(series) in /metrics")
            }
            #expect(metrics.contains("outcome=\"empty\"") && metrics.contains("outcome=\"claimed\""))
        }
    }
}
