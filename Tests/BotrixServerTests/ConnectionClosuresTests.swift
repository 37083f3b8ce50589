import BotrixServer
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

/// A keep-alive connection that long-polls all day must not pile up close callbacks.
@Suite("Connection close callbacks")
struct ConnectionClosuresTests {
    @Test("a thousand claims on one connection leave nothing behind; a close calls only those in flight")
    func registrationsDoNotPileUp() async throws {
        let closures = ConnectionClosures()
        let channel = EmbeddedChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        let called = Mutex<[Int]>([])
        for n in 0..<1000 {
            let token = closures.register(on: channel) { called.withLock { $0.append(n) } }
            closures.remove(token, from: channel)
        }
        #expect(closures.pending == 0 && closures.connections == 1)
        // Two claims in flight when the client leaves: both told, once.
        _ = closures.register(on: channel) { called.withLock { $0.append(1000) } }
        _ = closures.register(on: channel) { called.withLock { $0.append(1001) } }
        #expect(closures.pending == 2)
        try await channel.close().get()
        channel.embeddedEventLoop.run()
        #expect(called.withLock { $0.sorted() } == [1000, 1001])
        #expect(closures.pending == 0 && closures.connections == 0)
        // Registering on a closed connection calls back at once.
        _ = closures.register(on: channel) { called.withLock { $0.append(1002) } }
        #expect(called.withLock { $0.last } == 1002 && closures.connections == 0)
    }
}
