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
            let writer = try store.makeWriter()
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

    @Test("a failed first open removes what it created, never a folder in the way of its lock file")
    func failedOpenKeepsForeignFolders() throws {
        let folder = TemporaryFolder()
        let path = folder.file("new.mdb")
        try FileManager.default.createDirectory(atPath: path + "-lock", withIntermediateDirectories: false)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path + "-lock/important.txt"))
        #expect {
            _ = try BotrixStore(.init(path: path))
        } throws: { "\($0)".contains("-lock file) is a folder") }
        #expect(try String(contentsOfFile: path + "-lock/important.txt", encoding: .utf8) == "precious")
        #expect(!FileManager.default.fileExists(atPath: path), "a stub data file was left")
    }
}
