import EventLog
import Foundation
import LMDB
import Storage
import TestSupport
import Testing

@testable import Botrix
@testable import BotrixCLI

/// The operations commands through the built binary, on a store filled through the domain.
@Suite("Operations commands", .serialized)
struct OperationsTests {
    /// A store with jobs in several states and a few accounts; returns its path and a job id.
    static func filledStore(_ folder: TemporaryFolder, name: String = "ops.mdb") async throws -> (String, UUID) {
        let path = folder.file(name)
        let store = try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .nosync))
        let writer = try store.makeWriter()
        let service = try await BotrixService(store: store, writer: writer)
        let first = try await service.createJob(CreateJob(count: 3, priority: 2))
        _ = try await service.createJob(CreateJob(count: 1))
        let claimed = try #require(try await service.claimNext(workerID: "w1"))
        for n in 1...3 {
            _ = try await service.recordAccount(
                RecordAccount(
                    jobID: claimed.id, workerID: "w1", email: "u\(n)@example.com", username: "user\(n)",
                    password: "password-\(n)", birthdate: "1990-01-0\(n)"))
        }
        _ = try await service.complete(jobID: claimed.id, workerID: "w1")
        _ = try await service.updateAccount(UpdateAccount(accountID: 2, status: .active))
        await writer.shutdown()
        return (path, first.id)
    }

    @Test("stats, events, replay, verify, backup and rebuild work on a real file")
    func everyCommand() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let (db, job) = try await Self.filledStore(folder)
        let stats = try runProgram(binary, ["stats", "--db", db])
        #expect(
            stats.status == 0 && stats.output.contains("head sequence   8")
                && stats.output.contains("accounts        3"), "\(stats)")
        // JSON: one key per row, indented rows under their section (no key twice).
        let json = try runProgram(binary, ["stats", "--db", db, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: String])
        #expect(object["jobs_completed"] == "1" && object["accounts"] == "3", "\(json.output)")
        #expect(object["accounts_pending"] != nil && object["accounts_failed"] != nil, "\(json.output)")
        #expect(object["jobs_pending"] != nil && object["projection_lag"] == "0 events", "\(json.output)")
        #expect(object["partner_rows"] == "0", "\(json.output)")
        let table = try runProgram(binary, ["events", "--db", db, "--type", "AccountCreated", "--format", "table"])
        #expect(table.output.split(separator: "\n").count == 4 && table.output.hasPrefix("SEQ"))
        let stream = try runProgram(binary, ["events", "--db", db, "--stream", Streams.job(job)])
        #expect(stream.output.split(separator: "\n").count == 3)  // created, claimed, completed
        let future = try runProgram(binary, ["events", "--db", db, "--since", "2999-01-01T00:00:00Z"])
        #expect(future.status == 0 && future.output.isEmpty)
        let replay = try runProgram(binary, ["replay", "--db", db, "--as-of", "4", "--job", job.text])
        let view = try #require(
            try? JSONSerialization.jsonObject(with: Data(replay.output.utf8)) as? [String: Any], "\(replay)")
        #expect(view["status"] as? String == "running" && view["progress"] as? Int == 1)
        let everything = try runProgram(binary, ["replay", "--db", db, "--as-of", "8"])
        let state = try #require(
            try? JSONSerialization.jsonObject(with: Data(everything.output.utf8)) as? [String: Any], "\(everything)")
        #expect((state["accounts"] as? [[String: Any]])?.count == 3 && state["as_of_sequence"] as? Int == 8)
        #expect(try runProgram(binary, ["verify", "--db", db]).status == 0)
        let copy = folder.file("copy.mdb")
        let backup = try runProgram(binary, ["backup", "--db", db, copy])
        #expect(backup.status == 0 && backup.output.contains("hash chain verified"))
        #expect(try runProgram(binary, ["verify", "--db", copy]).status == 0)
        let rebuild = try runProgram(binary, ["rebuild", "--db", copy, "jobs"])
        #expect(rebuild.status == 0 && rebuild.output.contains("8 events replayed"))
        #expect(try runProgram(binary, ["verify", "--db", copy]).status == 0)
    }

    @Test(
        "verify names each kind of damage on copies: an event byte, a removed event, a projection row, an index entry, an event no rebuild can decode"
    )
    func verifyFindsDamage() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let (db, job) = try await Self.filledStore(folder)
        let damages: [(String, String, (Environment) throws -> Void)] = [
            (
                "event-byte", "event 3: its bytes do not match its hash",
                { env in
                    let events = try env.database("events")
                    try env.write { txn in
                        var raw = try #require(try txn.get(events, BigEndian.bytes(3)))
                        raw[150] ^= 0x20  // a byte of the event's data (header 89, stream 42, type 12, length 4)
                        try txn.put(events, BigEndian.bytes(3), raw)
                    }
                }
            ),
            (
                "event-removed", "event 5 is missing",
                { env in
                    let events = try env.database("events")
                    try env.write { txn in _ = try txn.delete(events, BigEndian.bytes(5)) }
                }
            ),
            (
                "projection-row", "projection jobs.views",
                { env in
                    let views = try env.database("jobs.views")
                    try env.write { txn in
                        let key = withUnsafeBytes(of: job.uuid) { Array($0) }
                        var row = try #require(try txn.get(views, key))
                        row[row.count - 1] ^= 0x01
                        try txn.put(views, key, row)
                    }
                }
            ),
            (
                "index-entry", "stream index: \(Streams.job(job)) version 1",
                { env in
                    let streams = try env.database("streams")
                    var key = Array(Streams.job(job).utf8)
                    key.append(0)
                    BigEndian.append(1, to: &key)
                    try env.write { txn in try txn.put(streams, key, BigEndian.bytes(2)) }
                }
            ),
            (
                // A well-formed, correctly chained record whose payload is not a JobCreated:
                // the log checks pass, and the comparison says it could not rebuild.
                "undecodable-event", "FAIL projections: could not rebuild them to compare:",
                { env in
                    let log = try EventLog(environment: env)
                    try env.write { txn in
                        var ltx = LogTransaction(log: log, transaction: txn, now: 1_767_323_045_678)
                        _ = try ltx.append(
                            AppendRequest(
                                stream: "job-x", events: [ProposedEvent(type: "JobCreated", data: Array("{}".utf8))]))
                    }
                }
            ),
        ]
        let source = try retryingWhileOpen { try Environment(.init(path: db, mapSize: 1 << 24, readOnly: true)) }
        for (name, expected, damage) in damages {
            let copy = folder.file("\(name).mdb")
            try source.copy(to: copy, compact: false)
            do {
                let env = try Environment(.init(path: copy, mapSize: 1 << 24))
                try damage(env)
            }
            let result = try runProgram(binary, ["verify", "--db", copy])
            #expect(result.status == 1, "\(name): \(result)")
            #expect(result.output.contains("FAIL") && result.output.contains(expected), "\(name): \(result.output)")
        }
    }

    @Test("a backup taken while another process appends verifies and holds a prefix of the log")
    func backupWhileAppending() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let writerProgram = try #require(builtExecutable("CrashWriter"))
        let folder = TemporaryFolder()
        let db = folder.file("busy.mdb")
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: writerProgram)
        producer.arguments = [db, folder.file("acks")]
        try producer.run()
        defer {
            producer.terminate()
            producer.waitUntilExit()
        }
        while ((try? String(contentsOfFile: folder.file("acks"), encoding: .utf8))?.count ?? 0) < 200 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let copy = folder.file("backup.mdb")
        let backup = try runProgram(binary, ["backup", "--db", db, copy])
        #expect(backup.status == 0, "\(backup.error)")
        // Let the producer go on appending after the copy, so the copy is a strict prefix.
        let acknowledged = (try? String(contentsOfFile: folder.file("acks"), encoding: .utf8))?.count ?? 0
        let deadline = Date().addingTimeInterval(60)
        while ((try? String(contentsOfFile: folder.file("acks"), encoding: .utf8))?.count ?? 0) <= acknowledged + 50,
            Date() < deadline
        {
            try await Task.sleep(for: .milliseconds(10))
        }
        producer.terminate()
        producer.waitUntilExit()
        let original = try retryingWhileOpen { try Environment(.init(path: db, mapSize: 1 << 24, readOnly: true)) }
        let copied = try Environment(.init(path: copy, mapSize: 1 << 24, readOnly: true))
        let sourceLog = try EventLog(environment: original)
        let copyLog = try EventLog(environment: copied)
        #expect(try copyLog.verify().isIntact)
        let copyHead = try copyLog.head()
        let sourceHead = try sourceLog.head().sequence
        #expect(copyHead.sequence > 0 && copyHead.sequence < sourceHead)
        let same = try original.read { try sourceLog.event(at: copyHead.sequence, in: $0) }
        #expect(same?.hash == copyHead.hash)  // the copy's last event is the source's: a prefix
    }

    @Test("bad arguments give one line of error, a non-zero exit, and change nothing")
    func badArguments() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let (db, _) = try await Self.filledStore(folder)
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        let existing = folder.file("exists.mdb")
        #expect(FileManager.default.createFile(atPath: existing, contents: Data("x".utf8)))
        let cases: [([String], String)] = [
            (["replay", "--db", db, "--as-of", "999", "--job", UUID().text], "beyond the last event"),
            (["replay", "--db", db, "--as-of", "5", "--job", UUID().text], "did not exist"),
            (["replay", "--db", db, "--as-of", "yesterday"], "--as-of"),
            (["replay", "--db", db, "--as-of", "3", "--job", "not-a-uuid"], "not a job id"),
            (["events", "--db", db, "--since", "last tuesday"], "RFC 3339"),
            (["events", "--db", db, "--after", "99"], "beyond the last event"),
            (["events", "--db", db, "--type", "Nope"], "not one of"),
            (["stats", "--db", folder.file("missing/none.mdb")], "no Botrix data"),
            (["backup", "--db", db, existing], "already exists"),
            (["rebuild", "--db", db, "widgets"], "unknown projection"),
            (["verify", "--db", "/proc/nonexistent/x.mdb"], "no Botrix data"),
        ]
        for (arguments, expected) in cases {
            let result = try runProgram(binary, arguments)
            #expect(result.status != 0, "\(arguments)")
            let lines = result.error.split(separator: "\n")
            #expect(lines.count == 1 && result.error.contains(expected), "\(arguments): \(result.error)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    }

    @Test("each command parses through parseAsRoot")
    func parsing() throws {
        #expect(try BotrixCommand.parseAsRoot(["replay", "--as-of", "12"]) is ReplayCommand)
        let replay = try #require(
            try BotrixCommand.parseAsRoot(["replay", "--as-of", "2026-01-02T03:04:05Z"]) as? ReplayCommand)
        #expect(replay.asOf == .time(1_767_323_045_000))
        #expect(try BotrixCommand.parseAsRoot(["rebuild", "jobs", "accounts"]) is RebuildCommand)
        #expect(try BotrixCommand.parseAsRoot(["verify", "--log-only"]) is VerifyCommand)
        #expect(try BotrixCommand.parseAsRoot(["backup", "/tmp/x.mdb"]) is BackupCommand)
        #expect(try BotrixCommand.parseAsRoot(["stats", "--format", "json"]) is StatsCommand)
        let events = try #require(
            try BotrixCommand.parseAsRoot(["events", "--type", "JobCreated", "--type", "JobFailed", "--follow"])
                as? EventsCommand)
        #expect(events.type == ["JobCreated", "JobFailed"] && events.follow)
        #expect(throws: (any Error).self) { _ = try BotrixCommand.parseAsRoot(["replay"]) }
        #expect(throws: (any Error).self) {
            _ = try BotrixCommand.parseAsRoot(["replay", "--as-of", "1", "--job", "x", "--account", "2"])
        }
        #expect(throws: (any Error).self) { _ = try BotrixCommand.parseAsRoot(["rebuild", "widgets"]) }
        #expect(throws: (any Error).self) { _ = try BotrixCommand.parseAsRoot(["backup"]) }
    }

}

@Suite("Keys command")
struct KeysCommandTests {
    @Test("keys create prints a key once, list shows it without the secret, revoke marks it")
    func keys() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("keys.mdb")
        let created = try runProgram(
            binary, ["keys", "create", "--db", db, "--name", "ops", "--scope", "admin", "--scope", "read"])
        #expect(created.status == 0 && created.error.contains("shown only now"))
        let token = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("btx_") && token.count == 65)
        let id = String(token.split(separator: "_")[1])
        let listed = try runProgram(binary, ["keys", "list", "--db", db])
        #expect(
            listed.output.contains(id) && listed.output.contains("admin,read")
                && !listed.output.contains(String(token.suffix(48))))
        #expect(try runProgram(binary, ["keys", "revoke", "--db", db, id]).status == 0)
        #expect(try runProgram(binary, ["keys", "list", "--db", db]).output.split(separator: "\n")[1].hasSuffix("Z"))
        let missing = try runProgram(binary, ["keys", "revoke", "--db", db, "nope"])
        #expect(missing.status != 0 && missing.error.contains("no key with id nope"))
        let bad = try runProgram(binary, ["keys", "create", "--db", db, "--name", "x", "--scope", "root"])
        #expect(bad.status != 0 && bad.error.split(separator: "\n").count == 1)
        let file = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(file.range(of: Data(token.suffix(48).utf8)) == nil)  // only the hash is stored
    }
}
