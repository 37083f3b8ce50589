import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InMemoryLogging
import LMDB
import Logging
import NIOEmbedded
import Storage
import TestSupport
import Testing

@testable import Botrix
@testable import BotrixServer

@Suite("Security", .serialized)
struct SecurityTests {
    /// What each documented route needs, stated here independently of the middleware.
    static func expectedScope(_ method: String, _ path: String) -> Scope? {
        if path.hasPrefix("/health") || path == "/metrics" { return nil }
        if method == "GET" { return .read }
        let operate = [
            "POST /api/jobs", "POST /api/accounts", "POST /api/jobs/{id}/cancel", "PUT /api/accounts/{id}",
            "DELETE /api/accounts/{id}",
        ]
        return operate.contains("\(method) \(path)") ? .operate : .work
    }

    @Test("each scope allows exactly its routes, over every route of schemas/openapi.yaml")
    func scopeTable() async throws {
        var setup = try APIHarness()
        setup.configuration.rateLimitBurst = 10_000
        let h = setup
        let keys: [Scope: HTTPFields] = Dictionary(
            uniqueKeysWithValues: try Scope.allCases.map { ($0, try h.key($0, name: $0.rawValue)) })
        let admin = keys[.admin]!
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":3}"#, headers: admin).body?["job_id"]
                    as? String)
            let routes = try RouteDocumentTests.documentedRoutes().sorted()
            #expect(routes.count >= 27)
            for route in routes {
                let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
                let (method, template) = (parts[0], parts[1])
                // The dashboard signs in with a session, not a bearer key: DashboardAccessTests.
                if template == "/" || template.hasPrefix("/ui") { continue }
                let expected = Self.expectedScope(method, template)
                let path =
                    template.contains("/api/jobs/{id}")
                    ? template.replacingOccurrences(of: "{id}", with: job)
                    : template.replacingOccurrences(of: "{id}", with: "1")
                for (scope, header) in keys.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    let allowed = expected == nil || scope == expected || scope == .admin
                    if allowed && template == "/api/events/stream" { continue }  // an endless body
                    let body = method == "GET" || method == "DELETE" ? nil : "{}"
                    let response = try await client.call(HTTPRequest.Method(method)!, path, json: body, headers: header)
                    if allowed {
                        #expect(![401, 403].contains(response.status.code), "\(route) with \(scope): \(response.text)")
                    } else {
                        #expect(response.status == .forbidden, "\(route) with \(scope): \(response.status)")
                        #expect((response.body?["detail"] as? String)?.contains(expected!.rawValue) == true, "\(route)")
                    }
                }
                if expected != nil && template != "/api/events/stream" {
                    #expect(
                        try await client.call(HTTPRequest.Method(method)!, path).status == .unauthorized,
                        "\(route) without a key")
                }
            }
        }
    }

    @Test("missing, malformed, unknown, revoked and wrong-scope keys get 401, 401, 401, 401 and 403")
    func badKeys() async throws {
        let h = try APIHarness()
        let reader = try h.key(.read)
        let store = try APIKeyStore(environment: h.store.environment)
        let (revokedKey, revokedToken) = try store.create(name: "old", scopes: [.read])
        #expect(try store.revoke(id: revokedKey.id))
        try await h.app().test(.router) { client in
            let missing = try await client.call(.get, "/api/jobs")
            #expect(missing.status == .unauthorized && missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(
                try await client.call(.get, "/api/jobs", headers: [.authorization: "Bearer nope"]).status
                    == .unauthorized)
            #expect(
                try await client.call(.get, "/api/jobs", headers: [.authorization: "Basic dXNlcjpwYXNz"]).status
                    == .unauthorized)
            let unknown = "Bearer btx_000000000000_" + String(repeating: "0", count: 48)
            #expect(
                try await client.call(.get, "/api/jobs", headers: [.authorization: unknown]).status == .unauthorized)
            let revoked = try await client.call(.get, "/api/jobs", headers: [.authorization: "Bearer \(revokedToken)"])
            #expect(
                revoked.status == .unauthorized && (revoked.body?["detail"] as? String)?.contains("revoked") == true)
            let wrong = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: reader)
            #expect(wrong.status == .forbidden && (wrong.body?["detail"] as? String)?.contains("operate") == true)
            #expect(try await client.call(.get, "/api/jobs", headers: reader).status == .ok)
            #expect(try await client.call(.get, "/health/ping").status == .ok)
            #expect(h.head == 0)
        }
    }

    @Test("passwords never appear in the file, a backup or the event feed; after deletion nothing can reveal them")
    func secretsAtRest() async throws {
        var setup = try APIHarness()
        setup.configuration.masterKey = Data(repeating: 7, count: 32).base64EncodedString()
        let h = setup
        let admin = try h.key(.admin)
        let reader = try h.key(.read)
        let password = "Sup3r-Secret-Pa55word"
        let code = "CODE-98765-XYZ"
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: admin).body?["job_id"]
                    as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: admin)
            let created = try await client.call(
                .post, "/api/jobs/\(job)/accounts",
                json:
                    #"{"worker_id":"w","email":"s@example.com","username":"secretive","password":"\#(password)","birthdate":"1990-01-01","verification_code":"\#(code)"}"#,
                headers: admin)
            #expect(created.status == .created && !created.text.contains(password) && !created.text.contains(code))
            let revealed = try await client.call(.get, "/api/accounts/1?reveal=password", headers: admin)
            #expect(
                revealed.body?["password"] as? String == password
                    && revealed.body?["verification_code"] as? String == code)
            #expect(
                try await client.call(.get, "/api/accounts/1?reveal=password", headers: reader).status == .forbidden)
            let plain = try await client.call(.get, "/api/accounts/1", headers: reader)
            #expect(plain.body?["password"] == nil && !plain.text.contains(password))

            try h.store.environment.sync()
            let backup = h.folder.file("backup.mdb")
            try h.store.environment.copy(to: backup)
            let feed = try await client.call(.get, "/api/events", headers: reader).text
            for (label, bytes) in [
                ("data file", try Data(contentsOf: URL(fileURLWithPath: h.store.environment.path))),
                ("backup", try Data(contentsOf: URL(fileURLWithPath: backup))), ("event feed", Data(feed.utf8)),
            ] {
                #expect(bytes.range(of: Data(password.utf8)) == nil, "\(label) holds the password")
                #expect(bytes.range(of: Data(code.utf8)) == nil, "\(label) holds the code")
            }
            #expect(feed.contains("enc1:"))

            #expect(try await client.call(.delete, "/api/accounts/1", headers: admin).status == .noContent)
            #expect(try await client.call(.get, "/api/accounts/1?reveal=password", headers: admin).status == .notFound)
            let service = try await BotrixService(
                store: h.store, writer: h.writer, secrets: try SecretBox(masterKey: Array(repeating: 7, count: 32)))
            _ = try await service.rebuild()
            #expect(try service.account(1) == nil)
            #expect(try service.revealPassword(accountID: 1) == nil)
            // The sealed password is still in the log, but its key is gone.
            let state = try ReplayState.fold(h.store.log, upTo: .sequence(3))
            #expect(state.accounts[1]?.password.hasPrefix("enc1:") == true)
            let dataKeys = try h.store.environment.database("secrets.data_keys")
            #expect(try h.store.environment.read { try $0.count(dataKeys) } == 0)
        }
    }

    @Test("request logs of a whole worker flow hold no password, code or key")
    func logsHoldNoSecrets() async throws {
        var setup = try APIHarness()
        setup.configuration.masterKey = Data(repeating: 9, count: 32).base64EncodedString()
        let h = setup
        let (_, token) = try APIKeyStore(environment: h.store.environment).create(name: "all", scopes: [.admin])
        let header: HTTPFields = [.authorization: "Bearer \(token)"]
        let memory = InMemoryLogHandler()
        var logger = Logger(label: "capture", factory: { _ in memory })
        logger.logLevel = .trace
        try await h.app(logger: logger).test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: header).body?["job_id"]
                    as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w"}"#, headers: header)
            _ = try await client.call(
                .post, "/api/jobs/\(job)/accounts",
                json:
                    #"{"worker_id":"w","email":"l@example.com","username":"logged","password":"Hunter2-Password","birthdate":"1990-01-01","verification_code":"VC-4242"}"#,
                headers: header)
            _ = try await client.call(.get, "/api/accounts/1?reveal=password", headers: header)
            _ = try await client.call(
                .put, "/api/accounts/1", json: #"{"password":"Another-Pass-77"}"#, headers: header)
            _ = try await client.call(.post, "/api/jobs/\(job)/complete", json: #"{"worker_id":"w"}"#, headers: header)
            _ = try await client.call(.get, "/api/jobs", headers: [.authorization: "Bearer btx_bad"])
        }
        let text = memory.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
        #expect(memory.entries.count > 5, "the request logs were not captured")
        for secret in ["Hunter2-Password", "VC-4242", "Another-Pass-77", token, String(token.suffix(48))] {
            #expect(!text.contains(secret), "a log line holds \(secret)")
        }
    }

    @Test("a burst of writes beyond the bucket gets 429 with Retry-After and appends nothing")
    func rateLimit() async throws {
        var setup = try APIHarness()
        // A bucket that refills too slowly to matter, however late the fourth request comes.
        setup.configuration.rateLimitWritesPerSecond = 0.001
        setup.configuration.rateLimitBurst = 3
        let h = setup
        let header = try h.key(.operate)
        try await h.app().test(.router) { client in
            for _ in 0..<3 {
                #expect(
                    try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: header).status == .created
                )
            }
            let head = h.head
            let limited = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: header)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
            #expect(limited.headers[.contentType] == "application/problem+json")
            #expect(h.head == head)
            // Reads are not limited.
            #expect(try await client.call(.get, "/api/jobs", headers: try h.key(.read)).status == .ok)
        }
    }

    @Test("production refuses to start without API keys, or without a master key")
    func productionRefuses() async throws {
        var h = try APIHarness()
        h.configuration.serverEnvironment = .production
        await #expect(throws: SecretBoxError.self) { _ = try await h.app() }
        h.configuration.masterKey = Data(repeating: 1, count: 32).base64EncodedString()
        await #expect(throws: ServerSecurityError.self) { _ = try await h.app() }
        _ = try h.key(.admin)
        _ = try await h.app()
    }
}

@Suite("Stream slots")
struct StreamSlotTests {
    @Test("each key may hold only its share of event streams; closing one frees a slot")
    func bounded() throws {
        let slots = StreamSlots(limit: 2)
        let first = try slots.take("k1")
        var second: StreamSlot? = try slots.take("k1")
        #expect(throws: (any Error).self) { _ = try slots.take("k1") }
        let other = try slots.take("k2")
        #expect(second != nil)
        second = nil  // released when it goes away
        let third = try slots.take("k1")
        #expect(slots.count("k1") == 2)
        withExtendedLifetime((first, other, third)) {}
    }
}

extension StreamSlotTests {
    @Test("a slot taken with a connection is given back the moment that connection closes")
    func releasedWhenTheConnectionCloses() throws {
        let slots = StreamSlots(limit: 1)
        let channel = EmbeddedChannel()
        let slot = try slots.take("k", closingWith: channel)
        #expect(slots.count("k") == 1)
        channel.close(promise: nil)
        channel.embeddedEventLoop.run()  // runs what the close scheduled, as a real loop would
        // The slot itself is still held (its response body has not gone away): only the
        // connection's close gave it back.
        #expect(slots.count("k") == 0)
        withExtendedLifetime(slot) {}
        _ = try slots.take("k")
    }

    @Test("a slot taken for a response whose body never runs is released when the response goes away")
    func releasedWithoutBody() throws {
        let slots = StreamSlots(limit: 1)
        for _ in 0..<300 {
            let slot = try slots.take("k")
            // What the server does with a stream response dropped before its head is written.
            var body: ResponseBody? = ResponseBody { _ in withExtendedLifetime(slot) {} }
            #expect(body != nil)
            body = nil
        }
        #expect(slots.count("k") == 0)
        _ = try slots.take("k")
    }
}
