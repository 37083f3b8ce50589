import BotrixServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Botrix

@Suite("Conventions")
struct ConventionsTests {
    @Test("X-Request-ID is echoed when sent, generated when not, and stored in event metadata")
    func requestIDs() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let sent = try await client.call(
                .post, "/api/jobs", json: #"{"count":1}"#, headers: [.requestID: "trace-42"])
            #expect(sent.headers[.requestID] == "trace-42")
            let generated = try await client.call(.get, "/health/ping")
            let id = try #require(generated.headers[.requestID])
            #expect(id.contains("-") && id.count >= 10)
            #expect(try await client.call(.get, "/health/ping").headers[.requestID] != id)
            let event = try #require(try h.store.log.read(after: 0, limit: 1).first)
            #expect(event.metadata == ["request_id": "trace-42", "actor": "operator"])
        }
    }

    @Test("the same Idempotency-Key returns the first answer again and appends once")
    func idempotency() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let first = try await client.call(
                .post, "/api/jobs", json: #"{"count":3}"#, headers: [.idempotencyKey: "create-1"])
            let head = h.head
            let again = try await client.call(
                .post, "/api/jobs", json: #"{"count":3}"#, headers: [.idempotencyKey: "create-1"])
            #expect(first.status == .created && again.status == .created)
            #expect(again.text == first.text && again.headers[.idempotentReplayed] == "true")
            #expect(h.head == head)
            let other = try await client.call(
                .post, "/api/jobs", json: #"{"count":3}"#, headers: [.idempotencyKey: "create-2"])
            #expect(other.body?["job_id"] as? String != first.body?["job_id"] as? String)
            // A refused command stores nothing: the same key may be used once the input is right.
            #expect(
                try await client.call(.post, "/api/jobs", json: #"{"count":0}"#, headers: [.idempotencyKey: "k"]).status
                    == .unprocessableContent)
            #expect(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: [.idempotencyKey: "k"]).status
                    == .created)
        }
    }

    @Test("ETag is the stream version (a job's adds its progress); If-Match with it succeeds, a stale one gets 412")
    func etags() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            _ = try await client.call(
                .post, "/api/jobs/\(job)/accounts",
                json:
                    #"{"worker_id":"w","email":"e@example.com","username":"eee","password":"password1","birthdate":"1990-01-01"}"#
            )
            let account = try await client.call(.get, "/api/accounts/1")
            #expect(account.headers[.eTag] == "\"1\"")
            let edited = try await client.call(
                .put, "/api/accounts/1", json: #"{"status":"active"}"#, headers: [.ifMatch: "\"1\""])
            #expect(
                edited.status == .ok && edited.headers[.eTag] == "\"2\""
                    && edited.body?["status"] as? String == "active")
            #expect(
                try await client.call(
                    .put, "/api/accounts/1", json: #"{"status":"disabled"}"#, headers: [.ifMatch: "\"1\""]
                ).status == .preconditionFailed)
            #expect(
                try await client.call(.delete, "/api/accounts/1", headers: [.ifMatch: "\"2\""]).status == .noContent)
            #expect(try await client.call(.get, "/api/accounts/1").status == .notFound)
            let jobView = try await client.call(.get, "/api/jobs/\(job)")
            let cancel = try await client.call(
                .post, "/api/jobs/\(job)/cancel", headers: [.ifMatch: jobView.headers[.eTag]!])
            #expect(cancel.status == .ok)
        }
    }

    @Test("recording an account changes the job's ETag; a cancel with the ETag from before gets 412")
    func jobETagFollowsAccounts() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":2}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            let before = try #require(try await client.call(.get, "/api/jobs/\(job)").headers[.eTag])
            let recorded = try await client.call(
                .post, "/api/jobs/\(job)/accounts",
                json:
                    #"{"worker_id":"w","email":"e@example.com","username":"eee","password":"password1","birthdate":"1990-01-01"}"#
            )
            #expect(recorded.status == .created)
            let after = try #require(try await client.call(.get, "/api/jobs/\(job)").headers[.eTag])
            #expect(after != before, "the job changed (progress 0 → 1) but kept its ETag \(before)")
            let stale = try await client.call(.post, "/api/jobs/\(job)/cancel", headers: [.ifMatch: before])
            #expect(stale.status == .preconditionFailed && stale.text.contains(after.filter { $0 != "\"" }))
            #expect(try await client.call(.post, "/api/jobs/\(job)/cancel", headers: [.ifMatch: after]).status == .ok)
        }
    }

    @Test("CORS answers listed origins and preflights, and ignores others")
    func cors() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let allowed = try await client.call(.get, "/health/ping", headers: [.origin: "https://ops.example"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://ops.example")
            let other = try await client.call(.get, "/health/ping", headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.call(
                .options, "/api/jobs", headers: [.origin: "https://ops.example", .accessControlRequestMethod: "POST"])
            #expect(
                preflight.status == .noContent
                    && preflight.headers[.accessControlAllowMethods]?.contains("POST") == true)
        }
    }

    @Test("/metrics serves Prometheus text with request and log metrics")
    func metrics() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#)
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .ok && metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains("botrix_http_requests_total{"))
            #expect(metrics.text.contains(#"route="/api/jobs""#))
            #expect(metrics.text.contains(#"botrix_queue_depth{priority="1"} 1"#))
            #expect(metrics.text.contains("botrix_log_head 1"))
        }
    }
}
