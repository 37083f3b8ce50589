import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Botrix
@testable import BotrixServer

/// What the dashboard's pages show: readable 404s, escaping, no secret on any page, the live
/// feed's stream slot, and cached live regions.
@Suite("Dashboard pages")
struct DashboardPageTests: DashboardTesting {
    @Test("unknown ids and pages answer a readable 404 page")
    func notFound() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            for page in [
                "/ui/jobs/00000000-0000-4000-8000-000000000000", "/ui/jobs/not-a-uuid", "/ui/accounts/999",
                "/ui/accounts/abc", "/ui/nope", "/ui/jobs/00000000-0000-4000-8000-000000000000/cancel",
                "/ui/assets/missing.css",
            ] {
                let answer = try await client.call(.get, page)
                #expect(answer.status == .notFound, "\(page)")
                #expect(answer.headers[.contentType] == "text/html; charset=utf-8", "\(page)")
                #expect(answer.text.contains("<h1>Not found</h1>"), "\(page)")
            }
            let form = try await Self.post(client, "/ui/nope", ["csrf": "x"])
            #expect(form.status == .notFound && form.text.contains("<h1>Not found</h1>"))
        }
    }

    @Test("what workers and operators typed is shown as text, and no password or code reaches any page")
    func escapingAndSecrets() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        let script = "<script>window.__xss=1</script>"
        let password = "PW-secret-7f3a-dashboard"
        let code = "CODE-4411-dashboard"
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":2}"#, headers: admin).body?["job_id"]
                    as? String)
            let worker = "w\(script)"
            let claimBody = try Self.json(["worker_id": worker])
            let claim = try await client.call(.post, "/api/queue/claim", json: claimBody, headers: admin)
            #expect(claim.status == .ok)
            let token = try #require(claim.body?["claim_token"] as? String)
            let account = try Self.json([
                "worker_id": worker, "claim_token": token, "email": "x@example.com", "username": "xss_user",
                "password": password, "verification_code": code, "birthdate": "1990-01-01",
                "account_data": ["note": script, "password": password],
            ])
            #expect(
                try await client.call(.post, "/api/jobs/\(job)/accounts", json: account, headers: admin).status
                    == .created)
            let progress = try Self.json([
                "worker_id": worker, "claim_token": token, "successful": 1, "message": script,
            ])
            #expect(
                try await client.call(.post, "/api/jobs/\(job)/progress", json: progress, headers: admin).status == .ok)
            let session = try await Self.signIn(client, try Self.token(admin))
            for page in Self.pages(job: job) + ["/ui/events?after=0", "/ui/replay"] {
                let answer = try await client.call(.get, page, headers: session)
                #expect(answer.status == .ok || (page.hasSuffix("/cancel") && answer.status == .ok), "\(page)")
                #expect(!answer.text.contains(script), "\(page) holds the raw script")
                #expect(!answer.text.contains(password) && !answer.text.contains(code), "\(page) holds a secret")
                #expect(!answer.text.contains("enc1:"), "\(page) holds sealed text")
            }
            let jobPage = try await client.call(.get, "/ui/jobs/\(job)", headers: session).text
            #expect(jobPage.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"))
            let accountPage = try await client.call(.get, "/ui/accounts/1", headers: session).text
            #expect(accountPage.contains("&lt;script&gt;") && accountPage.contains("xss_user"))
        }
    }

    @Test("a job page names each recent holder once, though the job keeps the current holder twice")
    func holdersOnce() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: admin).body?["job_id"]
                    as? String)
            // 70 claims by "again" (each released but the last): past the bound, the job keeps
            // "again" twice (it held earlier attempts); the page must not repeat it.
            for round in 0..<70 {
                let claim = try await client.call(
                    .post, "/api/queue/claim", json: #"{"worker_id":"again"}"#, headers: admin)
                let token = try #require(claim.body?["claim_token"] as? String)
                if round < 69 {
                    let body = try Self.json(["worker_id": "again", "claim_token": token])
                    _ = try await client.call(.post, "/api/jobs/\(job)/release", json: body, headers: admin)
                }
            }
            let session = try await Self.signIn(client, try Self.token(admin))
            let page = try await client.call(.get, "/ui/jobs/\(job)", headers: session).text
            #expect(page.contains("Held by (the most recent workers): again</p>"), "\(page)")
            // Claims by a, b, then a again: each once, where it last held the job (current last).
            let other = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: admin).body?["job_id"]
                    as? String)
            for (index, worker) in ["a", "b", "a"].enumerated() {
                let claim = try await client.call(
                    .post, "/api/queue/claim", json: #"{"worker_id":"\#(worker)"}"#, headers: admin)
                let token = try #require(claim.body?["claim_token"] as? String)
                if index < 2 {
                    let body = try Self.json(["worker_id": worker, "claim_token": token])
                    _ = try await client.call(.post, "/api/jobs/\(other)/release", json: body, headers: admin)
                }
            }
            let otherPage = try await client.call(.get, "/ui/jobs/\(other)", headers: session).text
            #expect(otherPage.contains("Held by (the most recent workers): b, a</p>"), "\(otherPage)")
        }
    }

    @Test("the live feed takes a slot of the key's stream limit, shared with the API's event streams")
    func liveFeedLimit() async throws {
        var setup = try APIHarness()
        setup.configuration.maxStreamsPerKey = 1
        let h = setup
        let keys = try APIKeyStore(environment: h.store.environment)
        let (key, token) = try keys.create(name: "ops", scopes: [.read])
        let service = try await BotrixService(store: h.store, writer: h.writer)
        let slots = StreamSlots(limit: 1)
        let router = try BotrixApplication.makeRouter(
            service: service, configuration: h.configuration, metrics: ServerMetrics(),
            access: AccessPolicy(keys: keys, development: true), sampler: ThroughputSampler(), streams: slots)
        let app = Application(router: router)
        try await app.test(.router) { client in
            let session = try await Self.signIn(client, token)
            // The key's one slot is held (by an API event stream, say): the page is told so.
            let held = try slots.take(key.id)
            let answer = try await client.call(.get, "/ui/live", headers: session)
            #expect(answer.status == .ok && answer.headers[.contentType] == "text/event-stream")
            #expect(answer.text.contains("event: limit") && answer.text.contains("MAX_STREAMS_PER_KEY"))
            withExtendedLifetime(held) {}
        }
    }

    @Test("a cached live region is never served across scopes, and a new event is seen at once")
    func fragmentCache() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        let reader = try Self.token(try h.key(.read))
        try await h.app().test(.router) { client in
            let job = try await Self.seeded(client, admin)
            let operatorSession = try await Self.signIn(client, try Self.token(admin))
            let readOnly = try await Self.signIn(client, reader)
            let region = "/ui/jobs/\(job)?fragment=1"
            let first = try await client.call(.get, region, headers: operatorSession)
            #expect(first.text.contains("id=\"cancel-link\"") && !first.text.contains("<html"))
            // Right after, at the same head: the read-only session gets its own region.
            let other = try await client.call(.get, region, headers: readOnly)
            #expect(other.status == .ok && !other.text.contains("id=\"cancel-link\""))
            let overview = try await client.call(.get, "/ui/?fragment=1", headers: readOnly).text
            #expect(overview.contains("data-figure=\"jobs.total\">2<"))
            _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: admin)
            let after = try await client.call(.get, "/ui/?fragment=1", headers: readOnly).text
            #expect(after.contains("data-figure=\"jobs.total\">3<"), "a region cached at the old head was served")
        }
    }
}
