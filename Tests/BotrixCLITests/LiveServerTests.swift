import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real `botrix serve` on loopback, driven by curl.
@Suite("Live server", .serialized)
struct LiveServerTests {
    func createJob(_ server: ServerProcess) throws -> String? {
        let (_, output) = try curl([
            "-X", "POST", "\(server.baseURL)/api/jobs", "-H", "Content-Type: application/json", "-d", #"{"count":1}"#,
        ])
        return (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])?["job_id"] as? String
    }

    func eventIDs(_ text: String) -> [Int] {
        text.split(separator: "\n").compactMap { line in line.hasPrefix("id: ") ? Int(line.dropFirst(4)) : nil }
    }

    /// Reads a stream until what arrived satisfies `done` (or 60 s passed: a loaded server
    /// can take seconds to answer), then 300 ms more for anything that should not come (a
    /// repeat), and returns it all.
    func streamed(_ url: String, headers: [String] = [], until done: (String) -> Bool) async throws -> String {
        let stream = try StreamingCurl(url: url, headers: headers, maxSeconds: 120)
        let deadline = Date().addingTimeInterval(60)
        while !done(stream.text) && stream.process.isRunning && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        if stream.process.isRunning { kill(stream.process.processIdentifier, SIGKILL) }  // as StreamReader.stop
        _ = stream.waitForExit(seconds: 10)
        return stream.text
    }

    @Test(
        "SSE: a client gets events appended after it connected and resumes from Last-Event-ID without gaps or repeats")
    func serverSentEvents() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("sse.mdb"))
        for _ in 0..<3 { #expect(try createJob(server) != nil) }
        // Read the stream as it arrives (a child process: no task of this test has to be
        // scheduled for it, which a loaded run delayed past a 20 s curl limit once); append
        // once it is connected; stop once the expected ids are in (or after 60 s).
        let stream = try StreamingCurl(
            url: "\(server.baseURL)/api/events/stream", headers: ["Last-Event-ID: 1"], maxSeconds: 180)
        #expect(stream.waitUntilConnected(seconds: 60), "\(stream.text)")
        for _ in 0..<2 { #expect(try createJob(server) != nil) }
        let deadline = Date().addingTimeInterval(60)
        while eventIDs(stream.text).count < 4 && stream.process.isRunning && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))  // a repeat, if there were one, would arrive now
        if stream.process.isRunning { kill(stream.process.processIdentifier, SIGKILL) }
        _ = stream.waitForExit(seconds: 10)
        let received = stream.text
        #expect(eventIDs(received) == [2, 3, 4, 5], "\(received)")
        #expect(received.contains("event: JobCreated\ndata: {\"data\":"))
        let resumed = try await streamed("\(server.baseURL)/api/events/stream", headers: ["Last-Event-ID: 4"]) {
            eventIDs($0).contains(5)
        }
        #expect(eventIDs(resumed) == [5], "\(resumed)")
        let live = try await streamed("\(server.baseURL)/api/events/stream") { $0.hasPrefix(": connected at 5\n") }
        #expect(eventIDs(live).isEmpty && live.hasPrefix(": connected at 5"), "\(live)")
        #expect(server.stop())
    }

    @Test("SIGTERM with writes and a stream in flight: the stream closes, the server exits 0, every 201 is durable")
    func gracefulShutdown() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("shutdown.mdb")
        let server = try ServerProcess(binary: binary, database: database)
        // A child process, open before the shutdown: a curl in a task could start late, after
        // the server is gone, and meet another test's server on the reused port.
        let stream = try StreamingCurl(url: "\(server.baseURL)/api/events/stream", maxSeconds: 120)
        let connected = try await onOwnThread { stream.waitUntilConnected(seconds: 60) }
        #expect(connected, "the stream did not open")
        let writes = Task {
            try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<40 { group.addTask { try createJob(server) } }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
        }
        try await Task.sleep(for: .milliseconds(150))
        #expect(server.stop(timeout: 15), "the server did not stop: \(server.log())")
        #expect(server.process.terminationStatus == 0, "\(server.log())")
        // The server closed the stream: curl ended on its own, not on its --max-time (exit 28).
        let streamed = try await onOwnThread { stream.waitForExit(seconds: 60) }
        #expect(
            streamed != nil && streamed != 28,
            "the stream outlived the server's shutdown (\(String(describing: streamed)))")
        let acknowledged = try await writes.value
        #expect(server.log().contains("stopped cleanly"))
        let (status, output, _) = try runProgram(binary, ["events", "--db", database])
        #expect(status == 0)
        for id in acknowledged { #expect(output.contains("\"job-\(id)\""), "acknowledged job \(id) lost") }
    }

}

/// curl on an endless response, collected as it arrives.
final class StreamReader: @unchecked Sendable {
    private let process = Process()
    private let pipe = Pipe()
    private var collector: PipeCollector?

    init(_ arguments: [String]) {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        process.standardOutput = pipe
    }

    func start() throws {
        try process.run()
        collector = PipeCollector(pipe)
    }

    var text: String { collector?.text ?? "" }

    /// True while curl is still connected (it exits when the server closes the stream).
    var isRunning: Bool { process.isRunning }

    func stop() {
        kill(process.processIdentifier, SIGKILL)  // curl may sit out SIGTERM until its --max-time
        process.waitUntilExit()
    }
}
