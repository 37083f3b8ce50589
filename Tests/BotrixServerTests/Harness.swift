import BotrixServer
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import TestSupport

@testable import Botrix

/// An application on a fresh store with an injected clock, driven through HummingbirdTesting.
struct APIHarness {
    let folder = TemporaryFolder()
    let store: BotrixStore
    let writer: GroupCommitWriter
    let clock = ManualClock()
    var configuration = BotrixConfiguration()

    init(leaseSeconds: Int = 60, maxAttempts: Int = 3) throws {
        store = try BotrixStore(.init(path: folder.file("botrix.mdb"), mapSize: 1 << 26, durability: .nosync))
        let clock = self.clock
        writer = try GroupCommitWriter(log: store.log, clock: { clock.now })
        configuration.serverHost = "127.0.0.1"
        configuration.serverPort = 0
        configuration.leaseSeconds = leaseSeconds
        configuration.maxAttempts = maxAttempts
        configuration.corsAllowedOrigins = ["https://ops.example"]
    }

    func app(logger: Logger? = nil) async throws -> some ApplicationProtocol {
        var quiet = Logger(label: "test")
        quiet.logLevel = .warning  // keep request logs out of the test output
        // As `botrix serve` does, but on this harness's store, writer and clocks.
        let (box, _) = try configuration.secrets(for: store.environment.path)
        let service = try await BotrixService(
            store: store, writer: writer, settings: configuration.serviceSettings, secrets: box,
            leaseClock: { [clock] in clock.now })
        return try await BotrixApplication.build(
            configuration: configuration, service: service, logger: logger ?? quiet)
    }

    /// Creates a key with these scopes and returns its bearer header.
    func key(_ scopes: Scope..., name: String = "test") throws -> HTTPFields {
        let (_, token) = try APIKeyStore(environment: store.environment).create(name: name, scopes: Set(scopes))
        return [.authorization: "Bearer \(token)"]
    }

    var head: UInt64 { (try? store.log.head().sequence) ?? 0 }
}

/// The writer's clock, moved by hand.
final class ManualClock: Sendable {
    private let value = Mutex<Int64>(1_767_323_045_678)
    var now: Int64 { value.withLock { $0 } }
    func advance(seconds: Int64) { value.withLock { $0 += seconds * 1000 } }
}

extension TestClientProtocol {
    /// Sends JSON and returns status, headers and the body parsed as an object (or nil).
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any]?, text: String) {
        var headers = headers
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            let text = String(buffer: response.body)
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return (response.status, response.headers, object, text)
        }
    }
}
