import BotrixServer
import Dispatch
import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// The check a write makes once its body is in fails closed; the lenient one long-lived
/// reads use does not.
@Suite("Revocation check for writes")
struct RevocationCheckTests {
    @Test("with the reader table full, a write's key check throws (never a yes); a stream's check keeps it")
    func failsClosed() throws {
        let folder = TemporaryFolder()
        let environment = try Environment(.init(path: folder.file("keys.mdb"), mapSize: 1 << 24, maxReaders: 8))
        let keys = try APIKeyStore(environment: environment)
        let (key, _) = try keys.create(name: "ops", scopes: [.operate])
        let policy = AccessPolicy(keys: keys, development: false)
        let write = policy.stillAuthorized(keyID: key.id, openAccess: false)
        let stream = policy.stillValid(keyID: key.id, openAccess: false)
        #expect(try write() == true)

        // Threads of this process hold every reader slot, each inside a read transaction.
        let slots = environment.info.maxReaders
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holding = Mutex(0)
        for _ in 0..<slots {
            Thread {
                do {
                    try environment.read { _ in
                        holding.withLock { $0 += 1 }
                        entered.signal()
                        release.wait()
                    }
                } catch {
                    entered.signal()  // no slot: counted as not holding
                }
            }.start()
        }
        for _ in 0..<slots { entered.wait() }
        #expect(holding.withLock { $0 } == slots)
        #expect(throws: (any Error).self, "a failed lookup must not let a write through") { try write() }
        #expect(stream() == true, "a storage hiccup should not drop a stream")

        for _ in 0..<slots { release.signal() }
        let freed = Date().addingTimeInterval(60)  // a poll: ends as soon as a slot is free
        while (try? write()) == nil, Date() < freed { Thread.sleep(forTimeInterval: 0.01) }
        #expect(try write() == true)
        _ = try keys.revoke(id: key.id)
        #expect(try write() == false)
    }
}
