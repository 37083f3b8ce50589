import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `botrix-bench http-floor`: the HTTP framework alone, serving files from memory.
///
/// Botrix's read figures are compared with nginx serving the same bytes, its writes with
/// Redis; this server shows how much of each gap is the framework itself: Hummingbird 2 with the server's thread
/// count, one route, no middleware, no logging, no storage. `tools/http-bench.sh` runs it
/// beside nginx, so every read row has two ratios: against nginx and against this floor.
struct HTTPFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-floor",
        abstract: "Serve a folder's files from memory with bare Hummingbird 2 (the framework's ceiling).",
        discussion: """
            Loads every file under --root into memory and answers GET PATH with the file at
            PATH (query ignored), else PATH.json, as application/json; anything else is 404.
            POST to any path reads the body and answers 201 without storing anything.
            Prints `listening on 127.0.0.1:PORT` once it accepts connections, and runs until
            stopped (SIGINT or SIGTERM).

            EXAMPLES
              botrix-bench http-floor --root /tmp/www --port 0
            """
    )

    @Option(help: "The folder whose files are served.") var root: String
    @Option(help: "The port on 127.0.0.1 (0: any free port).") var port = 0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
    }

    func run() async throws {
        let files = try Self.load(root)
        guard !files.isEmpty else { throw ValidationError("no files under \(root)") }
        let router = Router()
        router.get("**") { request, _ -> Response in
            let path = request.uri.path
            guard let body = files[path] ?? files[path + ".json"] else { return Response(status: .notFound) }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        // A POST reads its body and answers 201 with nothing stored: the framework's ceiling
        // for a write, whatever the storage behind it.
        let created = ByteBuffer(string: #"{"stored":false}"#)
        router.post("**") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(
                status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: created))
        }
        var logger = Logger(label: "http-floor")
        logger.logLevel = .error
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                let line = "listening on 127.0.0.1:\(channel.localAddress?.port ?? 0)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            },
            logger: logger)
        try await app.runService()
    }

    /// Every regular file under `root`, by its path from `root` with a leading slash.
    static func load(_ root: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else {
            throw ValidationError("cannot read \(root)")
        }
        while let relative = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            let full = "\(root)/\(relative)"
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue else {
                continue
            }
            files["/" + relative] = Array(try Data(contentsOf: URL(fileURLWithPath: full)))
        }
        return files
    }
}
