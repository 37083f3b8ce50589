import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Botrix
@testable import BotrixServer

/// Who may see and do what on the dashboard: sign-in, scopes, CSRF, sessions ending, open
/// mode and the dashboard's own limits. The browser itself is driven by Tests/Browser.
@Suite("Dashboard access")
struct DashboardAccessTests: DashboardTesting {
    @Test("without a session every page redirects to sign-in, and every POST and the live feed are refused")
    func signedOut() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        try await h.app().test(.router) { client in
            let job = try await Self.seeded(client, admin)
            for page in Self.pages(job: job) + ["/ui/nope", "/"] {
                let answer = try await client.call(.get, page)
                #expect(answer.status == .seeOther, "\(page)")
                let location = answer.headers[.location] ?? ""
                #expect(location.hasPrefix("/ui/login") || (page == "/" && location == "/ui/"), "\(page) → \(location)")
                #expect(!answer.text.contains(job) || page.contains("/ui/jobs/"), "\(page) shows nothing")
            }
            let live = try await client.call(.get, "/ui/live")
            #expect(live.status == .unauthorized && live.headers[.contentType]?.hasPrefix("text/html") == true)
            for path in ["/ui/jobs/\(job)/cancel", "/ui/logout"] {
                let answer = try await Self.post(client, path, ["csrf": "x", "etag": "1-0"])
                #expect(answer.status == .unauthorized, "\(path)")
            }
            #expect(try await Self.jobStatus(client, job, admin) == "pending")
            // The sign-in page itself and the files need no session.
            #expect(try await client.call(.get, "/ui/login").status == .ok)
            let css = try await client.call(.get, "/ui/assets/app.css")
            #expect(css.status == .ok && css.headers[.cacheControl] == "public, max-age=31536000, immutable")
        }
    }

    @Test("sign-in: a wrong key 401, a key without read 403, a good key a session cookie that scripts cannot read")
    func signIn() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        let worker = try Self.token(try h.key(.work))
        let reader = try Self.token(try h.key(.read))
        try await h.app().test(.router) { client in
            // Behind a proxy that rewrites Host: the browser's host (default port or not) is in
            // X-Forwarded-Host.
            for forwarded in ["dash.example", "dash.example:443"] {
                let proxied = try await Self.post(
                    client, "/ui/login", ["key": reader],
                    headers: [.origin: "https://dash.example", .init("X-Forwarded-Host")!: forwarded])
                #expect(proxied.status == .seeOther, "X-Forwarded-Host: \(forwarded)")
            }
            let elsewhere = try await Self.post(
                client, "/ui/login", ["key": reader],
                headers: [.origin: "https://evil.example", .init("X-Forwarded-Host")!: "dash.example"])
            #expect(elsewhere.status == .forbidden)
            let tooLarge = try await Self.post(client, "/ui/login", ["key": String(repeating: "k", count: 20_000)])
            #expect(tooLarge.status == .contentTooLarge && tooLarge.text.contains("16 KiB"))
            let wrong = try await Self.post(
                client, "/ui/login", ["key": "btx_000000000000_" + String(repeating: "0", count: 48)])
            #expect(wrong.status == .unauthorized && wrong.text.contains("class=\"flash error\""))
            #expect(wrong.headers[.setCookie] == nil)
            let noRead = try await Self.post(client, "/ui/login", ["key": worker])
            #expect(noRead.status == .forbidden && noRead.text.contains("lacks the read scope"))
            let crossSite = try await Self.post(
                client, "/ui/login", ["key": reader], headers: [.origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden && crossSite.headers[.setCookie] == nil)
            let good = try await Self.post(client, "/ui/login", ["key": reader, "next": "/ui/jobs?status=pending"])
            #expect(good.status == .seeOther && good.headers[.location] == "/ui/jobs?status=pending")
            let cookie = try #require(good.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/ui"))
            #expect(!cookie.contains(reader) && !(good.headers[.location] ?? "").contains(reader))
            // Somewhere else than the dashboard is never where sign-in sends you.
            for next in ["https://evil.example/", "//evil.example/ui/", "/api/jobs", "/ui/\\evil"] {
                let answer = try await Self.post(client, "/ui/login", ["key": reader, "next": next])
                #expect(answer.headers[.location] == "/ui/", "\(next)")
            }
            let session = Self.session(cookie)
            let page = try await client.call(.get, "/ui/", headers: session)
            #expect(page.status == .ok && page.text.contains("id=\"whoami\"") && !page.text.contains(reader))
            _ = admin
        }
    }

    @Test("cancel needs the operate scope: a read-only session sees no cancel link and its POST changes nothing")
    func scopes() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        let reader = try Self.token(try h.key(.read))
        try await h.app().test(.router) { client in
            let job = try await Self.seeded(client, admin)
            let session = try await Self.signIn(client, reader)
            let page = try await client.call(.get, "/ui/jobs/\(job)", headers: session)
            #expect(page.status == .ok && !page.text.contains("id=\"cancel-link\""))
            #expect(try await client.call(.get, "/ui/jobs/\(job)/cancel", headers: session).status == .forbidden)
            let csrf = try #require(Self.csrf(page.text))
            let refused = try await Self.post(
                client, "/ui/jobs/\(job)/cancel", ["csrf": csrf, "etag": "1-0"], headers: session)
            #expect(refused.status == .forbidden && refused.text.contains("operate"))
            #expect(try await Self.jobStatus(client, job, admin) == "pending")
            // A link cannot make a pending job's page claim it was cancelled.
            let spoofed = try await client.call(.get, "/ui/jobs/\(job)?cancelled=1", headers: session)
            #expect(spoofed.status == .ok && !spoofed.text.contains("flash ok"))
        }
    }

    @Test("cancel is refused without this session's form token or from another site, and with a stale ETag")
    func csrf() async throws {
        let h = try APIHarness()
        let admin = try h.key(.admin)
        let operate = try Self.token(try h.key(.read, .operate))
        let other = try Self.token(try h.key(.read, .operate, name: "other"))
        try await h.app().test(.router) { client in
            let job = try await Self.seeded(client, admin)
            let session = try await Self.signIn(client, operate)
            let otherSession = try await Self.signIn(client, other)
            let page = try await client.call(.get, "/ui/jobs/\(job)/cancel", headers: session)
            #expect(page.status == .ok && page.text.contains("id=\"cancel-form\""))
            let token = try #require(Self.csrf(page.text))
            let othersToken = try #require(
                Self.csrf(try await client.call(.get, "/ui/", headers: otherSession).text))
            let attempts: [([String: String], HTTPFields)] = [
                (["etag": "1-0"], session),
                (["etag": "1-0", "csrf": ""], session),
                (["etag": "1-0", "csrf": othersToken], session),
                (["etag": "1-0", "csrf": token], session + [.origin: "https://evil.example"]),
                (["etag": "1-0", "csrf": token], session + [.init("Sec-Fetch-Site")!: "cross-site"]),
            ]
            for (form, headers) in attempts {
                let answer = try await Self.post(client, "/ui/jobs/\(job)/cancel", form, headers: headers)
                #expect(answer.status == .forbidden, "\(form)")
                #expect(answer.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            #expect(try await Self.jobStatus(client, job, admin) == "pending")
            let stale = try await Self.post(
                client, "/ui/jobs/\(job)/cancel", ["etag": "0-0", "csrf": token], headers: session)
            #expect(stale.status == .preconditionFailed)
            #expect(try await Self.jobStatus(client, job, admin) == "pending")
            // The reason is limited in bytes, as the API's is: 600 "é" are 1,200 bytes.
            let long = try await Self.post(
                client, "/ui/jobs/\(job)/cancel",
                ["etag": "1-0", "csrf": token, "reason": String(repeating: "é", count: 600)],
                headers: session)
            #expect(long.status == .badRequest && long.text.contains("bytes"))
            #expect(try await Self.jobStatus(client, job, admin) == "pending")
            let done = try await Self.post(
                client, "/ui/jobs/\(job)/cancel", ["etag": "1-0", "csrf": token, "reason": "dashboard test"],
                headers: session)
            #expect(done.status == .seeOther && done.headers[.location] == "/ui/jobs/\(job)?cancelled=1")
            #expect(try await Self.jobStatus(client, job, admin) == "cancelled")
            let events = try await client.call(.get, "/api/jobs/\(job)/events", headers: admin).text
            #expect(events.contains("JobCancelled") && events.contains("dashboard test"))
            let again = try await Self.post(
                client, "/ui/jobs/\(job)/cancel", ["etag": "2-0", "csrf": token], headers: session)
            #expect(again.status == .conflict)
        }
    }

    @Test("signing out ends the session; a revoked key ends it at the next request")
    func sessionsEnd() async throws {
        let h = try APIHarness()
        let reader = try Self.token(try h.key(.read))
        let keys = try APIKeyStore(environment: h.store.environment)
        let (revokable, revokableToken) = try keys.create(name: "soon-revoked", scopes: [.read])
        try await h.app().test(.router) { client in
            let session = try await Self.signIn(client, reader)
            let page = try await client.call(.get, "/ui/", headers: session)
            let csrf = try #require(Self.csrf(page.text))
            #expect(try await Self.post(client, "/ui/logout", [:], headers: session).status == .forbidden)
            let out = try await Self.post(client, "/ui/logout", ["csrf": csrf], headers: session)
            #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.call(.get, "/ui/", headers: session).status == .seeOther)

            let other = try await Self.signIn(client, revokableToken)
            #expect(try await client.call(.get, "/ui/jobs", headers: other).status == .ok)
            #expect(try keys.revoke(id: revokable.id))
            let after = try await client.call(.get, "/ui/jobs", headers: other)
            #expect(after.status == .seeOther && after.headers[.location]?.hasPrefix("/ui/login") == true)
        }
    }

    @Test("open mode works without sign-in; the first key created ends anonymous sessions")
    func openMode() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let first = try await client.call(.get, "/ui/")
            #expect(first.status == .ok && first.text.contains("Open mode"))
            // No session is kept in open mode: nothing for a flood of requests to grow or push out.
            #expect(first.headers[.setCookie] == nil)
            let session: HTTPFields = [:]
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#).body?["job_id"] as? String)
            let page = try await client.call(.get, "/ui/jobs/\(job)", headers: session)
            #expect(page.status == .ok && page.text.contains("id=\"cancel-link\""))
            // Forms carry this run's open-mode token; a wrong one is refused.
            let token = try #require(Self.csrf(try await client.call(.get, "/ui/jobs/\(job)/cancel").text))
            // Change the first character to one it is not: a fixed "0" equals the token one run in sixteen.
            let forged = (token.first == "0" ? "1" : "0") + token.dropFirst()
            #expect(forged != token)
            #expect(
                try await Self.post(client, "/ui/jobs/\(job)/cancel", ["csrf": forged, "etag": "1-0"])
                    .status == .forbidden)
            _ = try h.key(.admin)
            let closed = try await client.call(.get, "/ui/jobs/\(job)", headers: session)
            #expect(closed.status == .seeOther && closed.headers[.location]?.hasPrefix("/ui/login") == true)
        }
    }

    @Test("sign-in attempts and pages have their own limits, answered with an HTML 429, apart from the API's")
    func limits() async throws {
        var setup = try APIHarness()
        setup.configuration.rateLimitWritesPerSecond = 1
        setup.configuration.rateLimitBurst = 2
        // Buckets that refill too slowly to matter, however long the test takes.
        setup.configuration.dashboardSignInsPerSecond = 0.001
        let h = setup
        let admin = try h.key(.admin)
        let reader = try Self.token(try h.key(.read))
        try await h.app().test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<14 {
                statuses.append(
                    try await Self.post(
                        client, "/ui/login", ["key": "btx_000000000000_" + String(repeating: "0", count: 48)]
                    ).status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == .unauthorized } && statuses.last == .tooManyRequests)
            let limited = try await Self.post(
                client, "/ui/login", ["key": "btx_000000000000_" + String(repeating: "1", count: 48)])
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
            #expect(limited.headers[.contentType] == "text/html; charset=utf-8")
            // Only failed attempts count: a valid key from the same address still gets in.
            #expect(try await Self.post(client, "/ui/login", ["key": reader]).status == .seeOther)
            // The API's write budget (two) was not spent by the sign-in attempts.
            #expect(try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: admin).status == .created)
        }
        var pageSetup = try APIHarness()
        pageSetup.configuration.dashboardRequestsPerSecond = 0.001
        pageSetup.configuration.dashboardRequestBurst = 20
        let pages = pageSetup
        let pageReader = try Self.token(try pages.key(.read))
        try await pages.app().test(.router) { client in
            let session = try await Self.signIn(client, pageReader)
            var last: HTTPResponse.Status = .ok
            var loaded = 0
            for _ in 0..<30 where last == .ok {
                last = try await client.call(.get, "/ui/jobs", headers: session).status
                if last == .ok { loaded += 1 }
            }
            // The sign-in's redirect target was not loaded: twenty pages, then 429.
            #expect(last == .tooManyRequests && loaded == 20)
        }
        var costSetup = try APIHarness()
        costSetup.configuration.dashboardRequestsPerSecond = 0.001
        costSetup.configuration.dashboardRequestBurst = 20
        let costly = costSetup
        let costlyReader = try Self.token(try costly.key(.read))
        try await costly.app().test(.router) { client in
            let session = try await Self.signIn(client, costlyReader)
            // A filter without an index costs ten: two of them spend the burst of twenty.
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                statuses.append(try await client.call(.get, "/ui/jobs?priority=2", headers: session).status)
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
        }
    }
}
