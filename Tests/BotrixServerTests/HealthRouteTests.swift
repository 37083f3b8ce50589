import Botrix
import BotrixServer
import EventLog
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import TestSupport
import Testing

@Suite("Health routes")
struct HealthRouteTests {
    @Test("ping and live answer JSON 200 while the writer runs, live says 503 once it stops")
    func pingAndLive() async throws {
        let folder = TemporaryFolder()
        let store = try BotrixStore(.init(path: folder.file("botrix.mdb"), mapSize: 1 << 24, durability: .nosync))
        let writer = store.makeWriter()
        var configuration = BotrixConfiguration()
        configuration.serverHost = "127.0.0.1"
        configuration.serverPort = 0
        let app = BotrixApplication.build(
            configuration: configuration, store: store, writer: writer, logger: Logger(label: "test"))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health/ping", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.status == .ok)
            }
            await writer.shutdown()
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/health/nothing", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
