import EventLog
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// Master key files, the keyring, `botrix keys rotate-master` and `botrix backup`'s
/// keyring, through the built binary: what an operator meets.
@Suite("Key files", .serialized)
struct KeyFileTests {
    static let keyA = Data((0..<32).map { UInt8($0) }).base64EncodedString()
    static let keyB = Data((0..<32).map { UInt8(200 - $0) }).base64EncodedString()
    static let keyC = Data((0..<32).map { UInt8($0 * 3 % 256) }).base64EncodedString()
    static let password = "Key-File-Password-77"
    static let code = "KEYFILE-CODE-4242"

    /// No key in the environment unless a test sets one (the empty value means unset).
    static let cleanEnvironment = [
        "BOTRIX_MASTER_KEY": "", "BOTRIX_MASTER_KEY_FILE": "", "BOTRIX_NEW_MASTER_KEY": "", "SERVER_ENV": "development",
        "LOG_LEVEL": "info",
    ]

    /// Runs the binary to its end (killed after `timeout` seconds: a server that should have
    /// refused to start would otherwise run forever).
    static func botrix(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 30) throws
        -> (status: Int32, output: String, error: String)
    {
        let binary = try #require(builtExecutable("botrix"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in cleanEnvironment.merging(environment, uniquingKeysWith: { $1 }) { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let collected = Mutex((Data(), Data()))
        let done = DispatchSemaphore(value: 0)
        for (index, handle) in [out.fileHandleForReading, err.fileHandleForReading].enumerated() {
            Thread {
                let data = handle.readDataToEndOfFile()
                collected.withLock { if index == 0 { $0.0 = data } else { $0.1 = data } }
                done.signal()
            }.start()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
            process.waitUntilExit()
        }
        done.wait()
        done.wait()
        process.waitUntilExit()
        let (output, error) = collected.withLock { $0 }
        #expect(!timedOut, "botrix \(arguments.joined(separator: " ")) still ran after \(timeout) s")
        return (
            process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self)
        )
    }

    /// `botrix serve` that must refuse to start: its status and its one `botrix:` line.
    static func refusedServe(_ db: String, environment: [String: String] = [:]) throws -> (
        status: Int32, line: String, all: String
    ) {
        let result = try botrix(
            ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db], environment: environment, timeout: 20)
        let lines = result.error.split(separator: "\n").filter { $0.hasPrefix("botrix: ") }
        #expect(lines.count == 1, "expected one error line:\n\(result.error)")
        return (result.status, lines.first.map(String.init) ?? "", result.error)
    }

    /// A data file with one account (password and code known) sealed under `key`.
    static func storeWithAccount(_ path: String, key: String) async throws {
        let store = try BotrixStore(.init(path: path, mapSize: 1 << 24))
        let writer = try store.makeWriter()
        let service = try await BotrixService(
            store: store, writer: writer, secrets: try SecretBox(masterKey: Array(Data(base64Encoded: key)!)))
        let job = try await service.createJob(CreateJob(count: 1))
        _ = try await service.claimNext(workerID: "w")
        _ = try await service.recordAccount(
            RecordAccount(
                jobID: job.id, workerID: "w", email: "k@example.com", username: "keyfile", password: password,
                birthdate: "1990-01-01", verificationCode: code))
        await writer.shutdown()
    }

    /// The revealed password of account 1 from a real server on `db`.
    static func revealedPassword(_ db: String, environment: [String: String]) throws -> String? {
        let binary = try #require(builtExecutable("botrix"))
        let server = try ServerProcess(
            binary: binary, database: db, environment: cleanEnvironment.merging(environment, uniquingKeysWith: { $1 }))
        let (_, body) = try curl(["\(server.baseURL)/api/accounts/1?reveal=password"])
        #expect(server.stop())
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return object?["password"] as? String
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("a new development key file and keyring are created with mode 0600, and reused on the next start")
    func newDevelopmentKey() throws {
        let folder = TemporaryFolder()
        let db = folder.file("dev.mdb")
        let binary = try #require(builtExecutable("botrix"))
        var server = try ServerProcess(binary: binary, database: db, environment: Self.cleanEnvironment)
        #expect(server.stop())
        let key = db + "-master.key"
        #expect(try Self.mode(key) == 0o600)
        #expect(try Self.mode(db + "-keyring") == 0o600)
        let keyBytes = try #require(Self.bytes(key))
        let text = String(decoding: keyBytes, as: UTF8.self)
        #expect(Data(base64Encoded: text.trimmingCharacters(in: .newlines))?.count == 32 && text.hasSuffix("\n"))
        let keyring = Self.bytes(db + "-keyring")
        server = try ServerProcess(binary: binary, database: db, environment: Self.cleanEnvironment)
        #expect(server.stop())
        #expect(Self.bytes(key) == Data(text.utf8), "the key file changed on the second start")
        #expect(Self.bytes(db + "-keyring") == keyring)
    }

    @Test(
        "a key file with a comment, garbage, nothing, or a folder in its place stops serve with one line naming it; it is left as it was"
    )
    func badKeyFiles() throws {
        let folder = TemporaryFolder()
        let valid = Self.keyA + "\n"
        let cases: [(String, Data?)] = [
            ("comment", Data((valid + "# the production key, rotated 2026-01\n").utf8)),
            ("garbage", Data("this is not a key at all\n".utf8)),
            ("empty", Data()),
            ("short", Data((Data(repeating: 7, count: 16).base64EncodedString() + "\n").utf8)),
            ("folder", nil),
        ]
        for (index, (label, content)) in cases.enumerated() {
            for development in [true, false] {
                let db = folder.file("bad-\(index)-\(development).mdb")
                let key = development ? db + "-master.key" : folder.file("key-\(index).txt")
                if let content {
                    #expect(FileManager.default.createFile(atPath: key, contents: content))
                } else {
                    try FileManager.default.createDirectory(atPath: key, withIntermediateDirectories: false)
                }
                let environment = development ? [:] : ["BOTRIX_MASTER_KEY_FILE": key]
                let (status, line, all) = try Self.refusedServe(db, environment: environment)
                #expect(status != 0, "\(label): serve started")
                #expect(line.contains("master key file \(key)"), "\(label): \(all)")
                #expect(Self.bytes(key) == content, "\(label): the key file was changed")
                if content == nil {
                    var isFolder: ObjCBool = false
                    #expect(FileManager.default.fileExists(atPath: key, isDirectory: &isFolder) && isFolder.boolValue)
                }
                #expect(!FileManager.default.fileExists(atPath: db + "-keyring"), "\(label): a keyring was made")
            }
        }
        // A key file setting that names nothing: refused, and nothing is created there.
        let missing = folder.file("missing.key")
        let (status, line, _) = try Self.refusedServe(
            folder.file("missing.mdb"), environment: ["BOTRIX_MASTER_KEY_FILE": missing])
        #expect(status != 0 && line.contains(missing) && line.contains("does not exist"))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test("a different master key than the one the data file records is refused by name")
    func wrongKey() async throws {
        let folder = TemporaryFolder()
        let db = folder.file("wrong.mdb")
        try await Self.storeWithAccount(db, key: Self.keyA)
        let keyring = Self.bytes(db + "-keyring")
        let (status, line, _) = try Self.refusedServe(db, environment: ["BOTRIX_MASTER_KEY": Self.keyB])
        #expect(status != 0)
        #expect(line.contains("the master key from BOTRIX_MASTER_KEY") && line.contains("does not match"), "\(line)")
        let keyFile = folder.file("b.key")
        try Data((Self.keyB + "\n").utf8).write(to: URL(fileURLWithPath: keyFile))
        let fromFile = try Self.refusedServe(db, environment: ["BOTRIX_MASTER_KEY_FILE": keyFile])
        #expect(fromFile.line.contains("BOTRIX_MASTER_KEY_FILE \(keyFile)") && fromFile.line.contains("does not match"))
        #expect(Self.bytes(db + "-keyring") == keyring)
        #expect(try Self.revealedPassword(db, environment: ["BOTRIX_MASTER_KEY": Self.keyA]) == Self.password)
    }

    @Test("rotate-master: the new key opens the old passwords, the old key is refused; a second run finishes a crash")
    func rotateMaster() async throws {
        let folder = TemporaryFolder()
        let db = folder.file("rotate.mdb")
        try await Self.storeWithAccount(db, key: Self.keyA)
        let oldKey = folder.file("a.key")
        try Data((Self.keyA + "\n").utf8).write(to: URL(fileURLWithPath: oldKey))
        let before = try #require(Self.bytes(db + "-keyring"))
        let newKey = folder.file("b.key")
        let rotated = try Self.botrix(
            ["keys", "rotate-master", "--db", db, "--new-key-file", newKey],
            environment: ["BOTRIX_MASTER_KEY_FILE": oldKey])
        #expect(rotated.status == 0, "\(rotated)")
        #expect(rotated.output.contains("wrote a new master key to \(newKey)"))
        #expect(rotated.output.contains("epoch 1 -> 2, 1 bucket key(s) re-wrapped (1 account data key(s) unchanged)"))
        #expect(try Self.mode(newKey) == 0o600)
        #expect(try Self.revealedPassword(db, environment: ["BOTRIX_MASTER_KEY_FILE": newKey]) == Self.password)
        let refused = try Self.refusedServe(db, environment: ["BOTRIX_MASTER_KEY_FILE": oldKey])
        #expect(refused.status != 0 && refused.line.contains("does not match"))

        // A crash after the LMDB step leaves the old root in the keyring too: run it again.
        let after = try #require(Self.bytes(db + "-keyring"))
        try Self.mergeKeyrings(before, after, into: db + "-keyring")
        let again = try Self.botrix(
            ["keys", "rotate-master", "--db", db, "--new-key-file", newKey],
            environment: ["BOTRIX_MASTER_KEY_FILE": oldKey])
        #expect(again.status == 0 && again.output.contains("finished an interrupted rotation"), "\(again)")
        #expect(Self.bytes(db + "-keyring") == after, "the old root is still in the keyring")

        // The new key from the environment, a third key.
        let third = try Self.botrix(
            ["keys", "rotate-master", "--db", db],
            environment: ["BOTRIX_MASTER_KEY_FILE": newKey, "BOTRIX_NEW_MASTER_KEY": Self.keyC])
        #expect(third.status == 0 && third.output.contains("epoch 2 -> 3"), "\(third)")
        #expect(try Self.revealedPassword(db, environment: ["BOTRIX_MASTER_KEY": Self.keyC]) == Self.password)
    }

    @Test("rotate-master refuses to run while serve holds the file, in one line, and changes nothing")
    func rotateRefusedWhileServing() async throws {
        let folder = TemporaryFolder()
        let db = folder.file("served.mdb")
        try await Self.storeWithAccount(db, key: Self.keyA)
        let keyring = Self.bytes(db + "-keyring")
        let binary = try #require(builtExecutable("botrix"))
        let server = try ServerProcess(
            binary: binary, database: db,
            environment: Self.cleanEnvironment.merging(["BOTRIX_MASTER_KEY": Self.keyA]) {
                $1
            })
        let result = try Self.botrix(
            ["keys", "rotate-master", "--db", db],
            environment: ["BOTRIX_MASTER_KEY": Self.keyA, "BOTRIX_NEW_MASTER_KEY": Self.keyB])
        #expect(server.stop())
        #expect(result.status != 0)
        #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
        #expect(result.error.contains("(botrix serve, pid ") && result.error.contains("stop it"))
        #expect(Self.bytes(db + "-keyring") == keyring)
        #expect(try Self.revealedPassword(db, environment: ["BOTRIX_MASTER_KEY": Self.keyA]) == Self.password)
    }

    @Test("backup writes the keyring of the copy's epoch beside it (mode 0600); the copy serves with the same key")
    func backupKeyring() async throws {
        let folder = TemporaryFolder()
        let db = folder.file("source.mdb")
        try await Self.storeWithAccount(db, key: Self.keyA)
        let dest = folder.file("copy.mdb")
        let backup = try Self.botrix(["backup", "--db", db, dest])
        #expect(backup.status == 0 && backup.output.contains("keyring \(dest)-keyring"), "\(backup)")
        #expect(try Self.mode(dest + "-keyring") == 0o600)
        #expect(Self.bytes(dest + "-keyring") == Self.bytes(db + "-keyring"))
        #expect(try Self.revealedPassword(dest, environment: ["BOTRIX_MASTER_KEY": Self.keyA]) == Self.password)
    }

    @Test("an idempotent account POST stores its answer without the password or code")
    func replaysHoldNoSecrets() throws {
        let folder = TemporaryFolder()
        let db = folder.file("replay.mdb")
        let binary = try #require(builtExecutable("botrix"))
        let server = try ServerProcess(
            binary: binary, database: db,
            environment: Self.cleanEnvironment.merging(["BOTRIX_MASTER_KEY": Self.keyA]) {
                $1
            })
        let json = ["-H", "Content-Type: application/json"]
        let (_, created) = try curl(["-X", "POST", "\(server.baseURL)/api/jobs"] + json + ["-d", #"{"count":1}"#])
        let job = try #require(
            (try? JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["job_id"])
        _ = try curl(["-X", "POST", "\(server.baseURL)/api/queue/claim"] + json + ["-d", #"{"worker_id":"w"}"#])
        let body =
            #"{"worker_id":"w","email":"r@example.com","username":"replayed","password":"\#(Self.password)","birthdate":"1990-01-01","verification_code":"\#(Self.code)"}"#
        for _ in 0..<2 {
            let (_, answer) = try curl(
                ["-X", "POST", "\(server.baseURL)/api/jobs/\(job)/accounts", "-H", "Idempotency-Key: acct-1"] + json + [
                    "-d", body,
                ])
            #expect(answer.contains("\"username\":\"replayed\"") && !answer.contains(Self.password))
        }
        #expect(server.stop())
        let raw = try #require(Self.bytes(db))
        #expect(raw.range(of: Data("replayed".utf8)) != nil, "the account is not in the file")
        #expect(raw.range(of: Data(Self.password.utf8)) == nil && raw.range(of: Data(Self.code.utf8)) == nil)
    }

    /// Writes a keyring holding the epochs of both `first` and `second`, as a crash between
    /// the steps of a rotation or an erasure leaves it.
    static func mergeKeyrings(_ first: Data, _ second: Data, into path: String) throws {
        var merged = try #require(try JSONSerialization.jsonObject(with: first) as? [String: Any])
        let other = try #require(try JSONSerialization.jsonObject(with: second) as? [String: Any])
        merged["epochs"] =
            try #require(merged["epochs"] as? [[String: Any]]) + (try #require(other["epochs"] as? [[String: Any]]))
        try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
}
