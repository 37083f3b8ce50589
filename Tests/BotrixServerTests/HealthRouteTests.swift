import BotrixServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Botrix

@Suite("Health routes")
struct HealthRouteTests {
    @Test("ping, live, ready and health answer JSON; ready and health say 503 once the writer stops")
    func health() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let ping = try await client.call(.get, "/health/ping")
            #expect(
                ping.status == .ok && ping.headers[.contentType] == "application/json"
                    && ping.text == #"{"status":"ok"}"#)
            #expect(try await client.call(.get, "/health/live").status == .ok)
            #expect(try await client.call(.get, "/health/ready").status == .ok)
            let health = try await client.call(.get, "/health")
            #expect(health.status == .ok && health.body?["status"] as? String == "ok")
            #expect(health.body?["version"] as? String == BotrixVersion.current)
            let checks = health.body?["checks"] as? [String: Any]
            #expect((checks?["projections"] as? [String: Any])?["lag_events"] as? Int == 0)
            await h.writer.shutdown()
            #expect(try await client.call(.get, "/health/ready").status == .serviceUnavailable)
            let degraded = try await client.call(.get, "/health")
            #expect(degraded.status == .serviceUnavailable && degraded.body?["status"] as? String == "degraded")
            #expect(try await client.call(.get, "/health/live").status == .ok)
        }
    }
}
