import EventLog
import Foundation
import TestSupport
import Testing

@testable import Botrix

@Suite("Store")
struct BotrixStoreTests {
    @Test("a store creates its folder, and a read-only store sees what the writer committed")
    func createAndReadBack() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("nested/dir/botrix.mdb")
        do {
            let store = try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync))
            let writer = store.makeWriter()
            _ = try await writer.append(
                AppendRequest(stream: "job-1", events: [ProposedEvent(type: "JobCreated", data: Array("{}".utf8))]))
            await writer.shutdown()
        }
        let reader = try retryingWhileOpen { try BotrixStore(.init(path: path, readOnly: true)) }
        #expect(try reader.log.head().sequence == 1)
        #expect(try reader.log.readStream("job-1").map(\.type) == ["JobCreated"])
    }

    @Test("a read-only open of a missing file says where it looked")
    func missingFile() {
        #expect {
            _ = try BotrixStore(.init(path: "/nonexistent/botrix.mdb", readOnly: true))
        } throws: { "\($0)".contains("/nonexistent/botrix.mdb") }
    }
}
