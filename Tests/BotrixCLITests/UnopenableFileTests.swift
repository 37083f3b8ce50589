import Foundation
import LMDB
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Files that cannot be opened: every command exits with one line naming the file, the
/// cause and what to do — never a crash, never a changed file.
@Suite("Unopenable files", .serialized)
struct UnopenableFileTests {
    /// Every command that opens the data file, for `db`.
    func commands(_ db: String, folder: TemporaryFolder) -> [[String]] {
        [
            ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db], ["stats", "--db", db],
            ["events", "--db", db], ["verify", "--db", db], ["replay", "--db", db, "--as-of", "1"],
            ["backup", "--db", db, "\(Self.openScratch)/copy-\(UUID().uuidString).mdb"], ["rebuild", "--db", db],
            ["keys", "list", "--db", db],
        ]
    }

    /// A folder anyone may write to, for backup copies made as another user.
    static let openScratch: String = {
        let path = NSTemporaryDirectory() + "/botrix-open-scratch"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o1777)
        return path
    }()

    /// Runs each command and checks: non-zero exit, one stderr line with the path and
    /// `cause`, and the file byte-identical afterwards.
    func expectRefused(_ db: String, cause: String, folder: TemporaryFolder, as user: String? = nil) throws {
        let binary = try #require(builtExecutable("botrix"))
        let before = FileManager.default.contents(atPath: db)
        for arguments in commands(db, folder: folder) {
            let result =
                try user.map {
                    try runProgram(
                        "/usr/bin/setpriv", ["--reuid=\($0)", "--regid=\($0)", "--clear-groups", binary] + arguments)
                }
                ?? runProgram(binary, arguments)
            let lines = result.error.split(separator: "\n")
            #expect(result.status == 1, "\(arguments[0]): exit \(result.status) \(result.error)")
            #expect(lines.count == 1, "\(arguments[0]) printed \(lines.count) lines: \(result.error)")
            #expect(result.error.hasPrefix("botrix: "), "\(arguments[0]): \(result.error)")
            #expect(result.error.contains(db), "\(arguments[0]) does not name the file: \(result.error)")
            #expect(result.error.contains(cause), "\(arguments[0]): \(result.error)")
            #expect(FileManager.default.contents(atPath: db) == before, "\(arguments[0]) changed the file")
        }
    }

    /// A real data file with some events, made through the binary.
    func makeStore(_ db: String) throws {
        let binary = try #require(builtExecutable("botrix"))
        let server = try ServerProcess(binary: binary, database: db)
        for _ in 0..<200 {
            try curl([
                "-X", "POST", "\(server.baseURL)/api/jobs", "-H", "Content-Type: application/json", "-d",
                #"{"count":2}"#,
            ])
        }
        #expect(server.stop())
    }

    @Test("not an LMDB file")
    func notLMDB() throws {
        let folder = TemporaryFolder()
        let db = folder.file("notes.mdb")
        try String(repeating: "these are my notes, not a database\n", count: 400).write(
            toFile: db, atomically: true, encoding: .utf8)
        try expectRefused(db, cause: "not an LMDB data file", folder: folder)
    }

    @Test("a truncated file (an interrupted copy) is refused, not a SIGBUS")
    func truncated() throws {
        let folder = TemporaryFolder()
        let db = folder.file("cut.mdb")
        try makeStore(db)
        let size = try #require(FileManager.default.attributesOfItem(atPath: db)[.size] as? Int)
        #expect(truncate(db, off_t(size / 2)) == 0)
        try expectRefused(db, cause: "truncated", folder: folder)
    }

    @Test("a file written by a newer log format")
    func newerFormat() throws {
        let folder = TemporaryFolder()
        let db = folder.file("future.mdb")
        try makeStore(db)
        do {
            let environment = try Environment(.init(path: db))
            let meta = try environment.database("meta")
            try environment.write { try $0.put(meta, Array("format".utf8), BigEndian.bytes(UInt64(99))) }
        }
        try expectRefused(db, cause: "written by a newer Botrix (log format 99", folder: folder)
    }

    @Test("an empty file is refused, not turned into a new store")
    func emptyFile() throws {
        let folder = TemporaryFolder()
        let db = folder.file("empty.mdb")
        #expect(FileManager.default.createFile(atPath: db, contents: Data()))
        try expectRefused(db, cause: "it is empty", folder: folder)
    }

    @Test("a full file system with no room for the lock file: one line, not a SIGBUS")
    func fullFileSystem() throws {
        let folder = TemporaryFolder()
        let source = folder.file("source.mdb")
        try makeStore(source)
        let size = try #require(FileManager.default.attributesOfItem(atPath: source)[.size] as? Int)
        let small = try SmallDisk(bytes: size + 64 * 1024)
        defer { small.unmount() }
        let disk = small.path
        let db = "\(disk)/full.mdb"
        try FileManager.default.copyItem(atPath: source, toPath: db)
        // Fill what is left, so LMDB cannot give its lock file real pages.
        _ = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(disk)/filler", "bs=4096"])
        try expectRefused(db, cause: "disk is full", folder: folder)
    }

    @Test("a new store on a full disk: one line, no stub left behind, and it starts once space is freed")
    func newStoreOnFullDisk() throws {
        let binary = try #require(builtExecutable("botrix"))
        let small = try SmallDisk(bytes: 1 << 20)
        defer { small.unmount() }
        let disk = small.path
        _ = try runProgram("/bin/dd", ["if=/dev/zero", "of=\(disk)/filler", "bs=4096"])
        _ = try runProgram("/usr/bin/truncate", ["-s", "-40K", "\(disk)/filler"])
        let db = "\(disk)/new.mdb"
        let refused = try runProgram(binary, ["serve", "--host", "127.0.0.1", "--port", "0", "--db", db])
        #expect(refused.status == 1)
        #expect(refused.error.contains("disk is full"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: db), "a stub data file was left behind")
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        let server = try ServerProcess(binary: binary, database: db)
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(server.baseURL)/api/jobs"]).output == "200")
        #expect(server.stop())
    }

    @Test("a key file that is /dev/zero or a FIFO: one line at once, no memory filled, no hang")
    func specialKeyFiles() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let fifo = folder.file("key.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        for keyFile in ["/dev/zero", fifo] {
            let result = try runProgram(
                "/usr/bin/timeout",
                [
                    "20", "/usr/bin/env", "BOTRIX_MASTER_KEY_FILE=\(keyFile)", binary, "serve", "--host", "127.0.0.1",
                    "--port", "0", "--db", folder.file("k.mdb"),
                ])
            #expect(result.status == 1, "\(keyFile): exit \(result.status) \(result.error)")
            // The last line is the one error line (serve logs that it opened the store first).
            let last = result.error.split(separator: "\n").last ?? ""
            #expect(last.hasPrefix("botrix: ") && last.contains(keyFile), "\(result.error)")
            #expect(last.contains("not a regular file"), "\(result.error)")
        }
    }

    @Test("a folder given as the data file")
    func folderAsFile() throws {
        let folder = TemporaryFolder()
        let db = folder.file("a-folder")
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: true)
        try expectRefused(db, cause: "is a folder, not a file", folder: folder)
    }

    @Test("a folder the user may not enter")
    func noPermission() throws {
        let folder = TemporaryFolder()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        let locked = folder.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        let db = "\(locked)/botrix.mdb"
        try makeStore(db)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: locked)
        // Root ignores modes: run the commands as `nobody`.
        try expectRefused(db, cause: "permission denied", folder: folder, as: "65534")
    }

    @Test("lock files left by a killed server: serve and every command work")
    func staleLockFiles() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let db = folder.file("crashed.mdb")
        let first = try ServerProcess(binary: binary, database: db)
        try curl([
            "-X", "POST", "\(first.baseURL)/api/jobs", "-H", "Content-Type: application/json", "-d", #"{"count":1}"#,
        ])
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: db + "-lock"))
        #expect(FileManager.default.fileExists(atPath: db + "-serve.lock"))
        let second = try ServerProcess(binary: binary, database: db)
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(second.baseURL)/api/jobs"]).output == "200")
        #expect(second.stop())
        let verify = try runProgram(binary, ["verify", "--db", db])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")
    }
}
