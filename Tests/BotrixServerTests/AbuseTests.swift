import BotrixServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LMDB
import Storage
import Testing

@testable import Botrix

/// The API under careless or hostile clients: shared idempotency keys, reused keys with
/// other bodies, keys created and revoked on a running server, odd JSON and Unicode.
@Suite("HTTP surface under abuse", .serialized)
struct AbuseTests {
    @Test("two API keys with the same Idempotency-Key on claim each get their own job")
    func idempotencyPerKey() async throws {
        let h = try APIHarness()
        let a = try h.key(.work, .operate, name: "a")
        let b = try h.key(.work, name: "b")
        try await h.app().test(.router) { client in
            for _ in 0..<2 { _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: a) }
            var idempotent = a
            idempotent[.idempotencyKey] = "claim-1"
            let first = try await client.call(
                .post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: idempotent)
            idempotent = b
            idempotent[.idempotencyKey] = "claim-1"
            let second = try await client.call(
                .post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: idempotent)
            #expect(first.status == .ok && second.status == .ok)
            #expect(second.headers[.idempotentReplayed] == nil, "key b got key a's stored answer")
            let firstJob = (first.body?["job"] as? [String: Any])?["id"] as? String
            let secondJob = (second.body?["job"] as? [String: Any])?["id"] as? String
            #expect(firstJob != nil && secondJob != nil && firstJob != secondJob)
        }
    }

    @Test("a claim's stored answer replays its claim_token, yet the token is nowhere in the data file")
    func storedAnswersAreSealed() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#)
            let headers: HTTPFields = [.idempotencyKey: "claim-sealed-1"]
            let first = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: headers)
            let again = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: headers)
            let token = try #require(first.body?["claim_token"] as? String)
            #expect(again.headers[.idempotentReplayed] == "true" && again.body?["claim_token"] as? String == token)
            try h.store.environment.sync()
            let file = try Data(contentsOf: URL(fileURLWithPath: h.store.environment.path))
            #expect(file.range(of: Data(token.utf8)) == nil, "the raw claim token is in the data file")
        }
    }

    @Test("a replay carries the stored status, ETag and Location; another body under the key gets 422")
    func replayAndFingerprint() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let headers: HTTPFields = [.idempotencyKey: "create-7"]
            let first = try await client.call(.post, "/api/jobs", json: #"{"count":3}"#, headers: headers)
            let again = try await client.call(.post, "/api/jobs", json: #"{"count":3}"#, headers: headers)
            #expect(first.status == .created && again.status == .created)
            #expect(again.headers[.idempotentReplayed] == "true")
            #expect(first.headers[.location] != nil && again.headers[.location] == first.headers[.location])
            #expect(first.headers[.eTag] != nil && again.headers[.eTag] == first.headers[.eTag])
            #expect(again.text == first.text)
            let head = h.head
            let other = try await client.call(.post, "/api/jobs", json: #"{"count":4}"#, headers: headers)
            #expect(other.status == .unprocessableContent)
            #expect(other.headers[.contentType] == "application/problem+json")
            #expect(other.body?["type"] as? String == "/problems/idempotency-key-reused")
            #expect(h.head == head)
            // The same key on another route is another scope: it runs.
            let job = try #require(first.body?["job_id"] as? String)
            let cancel = try await client.call(.post, "/api/jobs/\(job)/cancel", headers: headers)
            #expect(cancel.status == .ok && cancel.headers[.idempotentReplayed] == nil)
        }
    }

    @Test("a key created on a running open server closes it at once; revoking it does not reopen it")
    func keysTakeEffectAtOnce() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            #expect(try await client.call(.get, "/api/jobs").status == .ok, "development with no key is open")
            let store = try APIKeyStore(environment: h.store.environment)
            let (key, token) = try store.create(name: "ops", scopes: [.read])
            let refused = try await client.call(.get, "/api/jobs")
            #expect(refused.status == .unauthorized)
            #expect(try await client.call(.get, "/api/accounts/1?reveal=password").status == .unauthorized)
            let bearer: HTTPFields = [.authorization: "Bearer \(token)"]
            #expect(try await client.call(.get, "/api/jobs", headers: bearer).status == .ok)
            _ = try store.revoke(id: key.id)
            #expect(try await client.call(.get, "/api/jobs", headers: bearer).status == .unauthorized)
            #expect(try await client.call(.get, "/api/jobs").status == .unauthorized)
        }
    }

    @Test("a key id of twelve multi-byte characters gets 401, not a storage error")
    func multiByteKeyID() async throws {
        let h = try APIHarness()
        _ = try h.key(.read)
        try await h.app().test(.router) { client in
            let token = "btx_" + String(repeating: "é", count: 12) + "_" + String(repeating: "a", count: 48)
            let answer = try await client.call(.get, "/api/jobs", headers: [.authorization: "Bearer \(token)"])
            #expect(answer.status == .unauthorized && answer.headers[.contentType] == "application/problem+json")
        }
    }

    @Test("4xx and 5xx answers are counted in /metrics and carry CORS headers for an allowed origin")
    func errorsPassTheOuterMiddleware() async throws {
        var setup = try APIHarness()
        // Buckets that refill too slowly to matter, however slow the machine: the 503 below
        // is written with a second key, whose bucket (one per key) is still full.
        setup.configuration.rateLimitWritesPerSecond = 0.001
        setup.configuration.rateLimitBurst = 2
        let h = setup
        let operate = try h.key(.operate, .read)
        // Made before the fault is armed: creating a key writes to the store.
        var faultKey = try h.key(.operate, .read, name: "fault")
        faultKey[.origin] = "https://ops.example"
        let faulty = faultKey
        try await h.app().test(.router) { client in
            var withOrigin = operate
            withOrigin[.origin] = "https://ops.example"
            let unauthorized = try await client.call(
                .get, "/api/jobs", headers: [.origin: "https://ops.example", .authorization: "Bearer nope"])
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.headers[.accessControlAllowOrigin] == "https://ops.example")
            #expect(unauthorized.headers[HTTPField.Name("X-Request-ID")!] != nil)
            #expect(try await client.call(.get, "/api/nothing-here", headers: withOrigin).status == .notFound)
            let invalid = try await client.call(.post, "/api/jobs", json: #"{"count":0}"#, headers: withOrigin)
            #expect(invalid.status == .unprocessableContent)
            #expect(invalid.headers[.accessControlAllowOrigin] == "https://ops.example")
            _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: withOrigin)
            #expect(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: withOrigin).status
                    == .tooManyRequests)
            h.store.environment.faults.arm(.put, code: 5)  // EIO on the next write
            let failed = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: faulty)
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.headers[.accessControlAllowOrigin] == "https://ops.example")
            let metrics = try await client.call(.get, "/metrics").text
            for status in ["401", "404", "422", "429", "503"] {
                #expect(
                    metrics.contains("status=\"\(status)\""),
                    "no botrix_http_requests_total series with status \(status)"
                )
            }
        }
    }

    @Test("made-up methods are counted as \"other\": clients cannot add metric series at will")
    func unknownMethodsShareOneLabel() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            for n in 0..<5 {
                let method = try #require(HTTPRequest.Method("BREW\(n)"))
                _ = try await client.execute(uri: "/api/jobs", method: method) { _ in () }
            }
            _ = try await client.call(.get, "/api/jobs")
            let metrics = try await client.call(.get, "/metrics").text
            #expect(!metrics.contains("BREW"), "a made-up method became a label")
            #expect(metrics.contains("method=\"other\""))
            #expect(metrics.contains("method=\"GET\""))
        }
    }

    @Test("JSON with +1, 01, .5, 1. or a repeated key is malformed (400) and changes nothing")
    func strictJSON() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let head = h.head
            for body in [
                #"{"count":+1}"#, #"{"count":01}"#, #"{"count":.5}"#, #"{"count":1.}"#, #"{"count":1,"count":2}"#,
                #"{"count":1e}"#, #"{"count":-}"#,
            ] {
                let answer = try await client.call(.post, "/api/jobs", json: body)
                #expect(answer.status == .badRequest, "\(body) got \(answer.status)")
                #expect(answer.body?["type"] as? String == "/problems/malformed-json", "\(body)")
            }
            #expect(h.head == head)
            #expect(try await client.call(.post, "/api/jobs", json: #"{"count":1e0}"#).status == .unprocessableContent)
        }
    }

    @Test("NFC and NFD spellings of one email, or its upper case: the second is refused (422, already used)")
    func unicodeEmails() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":3}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#)
            func record(_ email: String, _ username: String) async throws -> String {
                let answer = try await client.call(
                    .post, "/api/jobs/\(job)/accounts",
                    json:
                        #"{"worker_id":"w","email":"\#(email)","username":"\#(username)","password":"password1","birthdate":"1990-01-01"}"#
                )
                return answer.status == .created ? "created" : "\(answer.status.code) \(answer.body?["detail"] ?? "")"
            }
            #expect(try await record("jos\u{E9}@example.com", "first") == "created")
            #expect(try await record("jose\u{301}@example.com", "second") == "422 email: is already used by account 1")
            #expect(try await record("JOS\u{C9}@example.com", "third") == "422 email: is already used by account 1")
        }
    }

    @Test("an operator action records the API key's id (never its secret) as actor and api_key")
    func actorIsTheKey() async throws {
        let h = try APIHarness()
        let (key, token) = try APIKeyStore(environment: h.store.environment).create(name: "ops", scopes: [.operate])
        try await h.app().test(.router) { client in
            let created = try await client.call(
                .post, "/api/jobs", json: #"{"count":1}"#, headers: [.authorization: "Bearer \(token)"])
            #expect(created.status == .created)
        }
        let event = try #require(try h.store.log.read(after: 0, limit: 10).last)
        #expect(event.metadata["actor"] == key.id && event.metadata["api_key"] == key.id)
        #expect(!event.metadata.values.contains { $0.contains(String(token.suffix(48))) })
    }

    @Test("a stored record that cannot be read answers 500 data-damaged, not a 4xx, and shows no storage text")
    func damagedRecord() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            // Remove the event the job's stream index points to: the index now names a missing record.
            let sequence = h.head
            let events = try h.store.environment.database("events", create: false)
            _ = try h.store.environment.write { txn in try txn.delete(events, BigEndian.bytes(sequence)) }
            let answer = try await client.call(.get, "/api/jobs/\(job)/events")
            #expect(answer.status == .internalServerError, "\(answer.status): \(answer.text)")
            #expect(answer.body?["type"] as? String == "/problems/data-damaged")
            #expect(!answer.text.contains("stream index") && !answer.text.contains("MDB_"))
        }
    }
}
