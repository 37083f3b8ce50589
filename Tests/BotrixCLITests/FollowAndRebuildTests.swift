import Botrix
import EventLog
import Foundation
import Storage
import TestSupport
import Testing

@testable import BotrixBench
@testable import BotrixCLI
@testable import LMDB

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Follow and rebuild through the binary", .serialized)
struct FollowAndRebuildTests {
    @Test("events --follow prints what another process appends, then stops at --limit")
    func follow() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let writerProgram = try #require(builtExecutable("CrashWriter"))
        let folder = TemporaryFolder()
        let db = folder.file("follow.mdb")
        do {
            let store = try BotrixStore(.init(path: db, mapSize: 1 << 24, durability: .nosync))
            _ = store  // creates the file and its databases
        }
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: binary)
        follower.arguments = ["events", "--db", db, "--follow", "--limit", "5"]
        let out = Pipe()
        follower.standardOutput = out
        try retryingWhileOpen { try follower.run() }
        try await Task.sleep(for: .milliseconds(300))
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: writerProgram)
        producer.arguments = [db, folder.file("acks")]
        try producer.run()
        let deadline = Date().addingTimeInterval(20)
        while follower.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        producer.terminate()
        producer.waitUntilExit()
        #expect(!follower.isRunning, "--follow did not stop after --limit")
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(
            separator: "\n")
        #expect(lines.count == 5)
        let sequences = lines.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["seq"] as? Int
        }
        #expect(sequences == Array(1...5))
    }

    @Test("a rebuild killed at a random moment leaves the old projections, which still verify")
    func killedRebuild() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("rebuild.mdb")
        do {
            let environment = try Environment(.init(path: db, mapSize: 1 << 30, durability: .nosync))
            let log = try EventLog(environment: environment)
            _ = try SyntheticLog.write(events: 40_000, into: log)
            try environment.sync()
        }
        #expect(try runProgram(binary, ["rebuild", "--db", db]).status == 0)
        for round in 0..<3 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["rebuild", "--db", db]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let verify = try runProgram(binary, ["verify", "--db", db])
            #expect(verify.status == 0, "round \(round): \(verify.output)")
        }
    }

    @Test("rebuilds by another process are what this process reads once each exchange commits")
    func rebuildBesideThisProcess() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("beside.mdb")
        // This process holds the file open throughout, as `botrix serve` would.
        let store = try BotrixStore(.init(path: db, mapSize: 1 << 30, durability: .nosync))
        _ = try SyntheticLog.write(events: 5_000, into: store.log)
        try store.environment.sync()
        let projections = try Projections(store: store)
        let digests = { try store.environment.read { try projections.digests(in: $0) } }
        let partnerRows = {
            try store.environment.read { txn in try projections.partners.reduce(0) { $0 + (try txn.count($1)) } }
        }
        #expect(try runProgram(binary, ["rebuild", "--db", db]).status == 0)
        let rebuilt = try digests()
        #expect(rebuilt[projections.jobs.databases[0].name] != nil)
        // Twice: the first exchange moves every name's rows, the second moves them back.
        for round in 0..<2 {
            try store.environment.write { txn in try txn.put(projections.jobs.databases[0], Array("damage".utf8), [1]) }
            #expect(try digests() != rebuilt)
            let run = try runProgram(binary, ["rebuild", "--db", db])
            #expect(run.status == 0, "\(run.error)")
            #expect(try digests() == rebuilt, "round \(round): this process still reads the old rows")
            #expect(try partnerRows() == 0)
        }
        #expect(try runProgram(binary, ["verify", "--db", db]).status == 0)
    }

    @Test("a read-only process that opened a file before any of this version fails to read what an exchange retired")
    func readOnlyFromBeforeTheMap() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("older-file.mdb")
        // A file as a version before the exchange left it: projections in databases of their
        // own names, no partners, no record of exchanges; one row damaged.
        do {
            let store = try BotrixStore(.init(path: db, mapSize: 1 << 28, durability: .nosync))
            _ = try SyntheticLog.write(events: 300, into: store.log)
            let projections = try Projections(store: store)
            _ = try projections.rebuild(log: store.log)
            try store.environment.write { txn in try txn.put(projections.jobs.databases[0], Array("damage".utf8), [1]) }
            let environment = try #require(store.environment as? Environment)
            try environment.dropForTests(projections.partners.map(\.name) + ["storage.map"])
        }
        let file = try BotrixStore(.init(path: db, mapSize: 1 << 28, durability: .nosync, readOnly: true))
        let projections = try Projections(store: file)
        #expect(projections.partners.isEmpty)
        let digests = { try file.environment.read { try projections.digests(in: $0) } }
        let damaged = try digests()
        let run = try runProgram(binary, ["rebuild", "--db", db])
        #expect(run.status == 0, "\(run.error)")
        // Its rows are now in a partner this process never opened: an error, not the old rows.
        #expect(throws: (any Error).self, "read \(String(describing: try? digests() == damaged))") { _ = try digests() }
    }

    @Test("rebuild refuses to run beside a server too old to follow its exchange")
    func olderServer() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("older.mdb")
        do {
            let store = try BotrixStore(.init(path: db, mapSize: 1 << 28, durability: .nosync))
            _ = try SyntheticLog.write(events: 200, into: store.log)
        }
        // A server's lock as a build from before the exchange wrote it (its pid alone), held.
        let lock = open(db + "-serve.lock", O_RDWR | O_CREAT, 0o644)
        defer { close(lock) }
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        #expect(pwrite(lock, "4242\n", 5, 0) == 5)
        let refused = try runProgram(binary, ["rebuild", "--db", db])
        #expect(refused.status != 0)
        #expect(refused.error.contains("older version") && refused.error.contains("pid 4242"), "\(refused.error)")
        // The lock of a server that follows exchanges: the rebuild runs beside it.
        #expect(ftruncate(lock, 0) == 0 && pwrite(lock, "4242\nexchange\n", 14, 0) == 14)
        let ran = try runProgram(binary, ["rebuild", "--db", db])
        #expect(ran.status == 0, "\(ran.error)")
        #expect(ran.error.contains("pid 4242"))
    }

    @Test("serve removes the rows an interrupted rebuild left in the partner databases")
    func serveRemovesPartnerRows() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("partners.mdb")
        do {
            let store = try BotrixStore(.init(path: db, mapSize: 1 << 28, durability: .nosync))
            _ = try SyntheticLog.write(events: 200, into: store.log)
            let projections = try Projections(store: store)
            try store.environment.write { txn in
                for k in 0..<100 { try txn.put(projections.partners[1], Array("left\(k)".utf8), [1]) }
            }
            try store.environment.sync()
        }
        let server = try ServerProcess(binary: binary, database: db)
        let deadline = Date().addingTimeInterval(20)
        while !server.log().contains("removed 100 rows left in the partner databases"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.stop())
        #expect(server.log().contains("removed 100 rows left in the partner databases"), "\(server.log())")
        let store = try BotrixStore(.init(path: db, mapSize: 1 << 28, durability: .nosync))
        let projections = try Projections(store: store)
        #expect(try store.environment.read { try $0.count(projections.partners[1]) } == 0)
    }

    @Test("serve removes the scratch files of killed rebuilds, and leaves a running rebuild's")
    func serveRemovesLeftovers() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("leftovers.mdb")
        // A killed run's scratch file, lock and owner (nobody holds its lock), and a running
        // run's, whose owner lock this test holds.
        let dead = "\(db).rebuild-7-dead.mdb"
        let running = "\(db).rebuild-8-running.mdb"
        for path in [dead, dead + "-lock", dead + "-owner", running, running + "-owner"] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 4096)))
        }
        let held = open(running + "-owner", O_RDWR)
        defer { close(held) }
        #expect(flock(held, LOCK_EX | LOCK_NB) == 0)
        let server = try ServerProcess(binary: binary, database: db)
        #expect(server.stop())
        for path in [dead, dead + "-lock", dead + "-owner"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) was left")
        }
        #expect(
            FileManager.default.fileExists(atPath: running)
                && FileManager.default.fileExists(atPath: running + "-owner"))
        #expect(server.log().contains("left by a rebuild that was killed"), "\(server.log())")
    }

}
