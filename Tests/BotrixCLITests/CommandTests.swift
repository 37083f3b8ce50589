import Foundation
import TestSupport
import Testing

@testable import BotrixCLI

@Suite("Command line")
struct CommandTests {
    @Test("commands parse their options, and bad ones are refused")
    func parsing() throws {
        let events = try #require(
            try BotrixCommand.parseAsRoot(["events", "--db", "/tmp/x.mdb", "--after", "5", "--limit", "2"])
                as? EventsCommand)
        #expect(events.store.path == "/tmp/x.mdb" && events.after == 5 && events.limit == 2)
        let serve = try #require(try BotrixCommand.parseAsRoot(["serve", "--port", "9001"]) as? ServeCommand)
        #expect(serve.port == 9001 && serve.host == nil)
        #expect(throws: (any Error).self) { _ = try BotrixCommand.parseAsRoot(["events", "--limit", "0"]) }
        #expect(throws: (any Error).self) { _ = try BotrixCommand.parseAsRoot(["events", "--after", "-3"]) }
        #expect(throws: (any Error).self) { _ = try BotrixCommand.parseAsRoot(["nonsense"]) }
    }

    @Test("serve limits glibc to two malloc arenas unless the operator chose a limit")
    func mallocArenas() {
        #expect(MallocArenas.limit(environment: [:]) == 2)
        #expect(MallocArenas.limit(environment: ["MALLOC_ARENA_MAX": "8"]) == nil)
        #expect(MallocArenas.limit(environment: ["MALLOC_ARENA_MAX": ""]) == 2)
        #expect(MallocArenas.limit(environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=4"]) == nil)
        #expect(MallocArenas.limit(environment: ["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"]) == 2)
    }

    @Test("`botrix events` prints what the CrashWriter appended, one public-shape JSON line each")
    func eventsThroughBinary() async throws {
        let botrix = try #require(builtExecutable("botrix"))
        let writer = try #require(builtExecutable("CrashWriter"))
        let folder = TemporaryFolder()
        let db = folder.file("cli.mdb")
        let acks = folder.file("acks")
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: writer)
        producer.arguments = [db, acks]
        try producer.run()
        while ((try? String(contentsOfFile: acks, encoding: .utf8))?.count ?? 0) < 20 {
            try await Task.sleep(for: .milliseconds(10))
        }
        producer.terminate()
        producer.waitUntilExit()

        let (status, output, _) = try runProgram(botrix, ["events", "--db", db, "--limit", "5"])
        #expect(status == 0)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 5)
        for (index, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["seq"] as? Int == index + 1)
            #expect((object["stream"] as? String)?.hasPrefix("crash-") == true)
            #expect(object["type"] as? String == "Tick")
        }
        let (beyond, _, error) = try runProgram(botrix, ["events", "--db", db, "--after", "999999999"])
        #expect(beyond != 0 && error.contains("beyond the last event"))
        let (missing, _, missingError) = try runProgram(botrix, ["events", "--db", folder.file("none.mdb")])
        #expect(missing != 0 && missingError.contains("no Botrix data"))
    }

}
