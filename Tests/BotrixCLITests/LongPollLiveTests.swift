import Foundation
import TestSupport
import Testing

/// Long-poll claims through the built server: a client that hangs up stops waiting (no
/// job is leased to it), and a shutdown answers every waiting claim at once.
@Suite("Long-poll claims, live", .serialized)
struct LongPollLiveTests {
    /// Waits (up to 20 s) until the server's gauge shows `count` claims waiting (one unless
    /// told). It blocks its thread on purpose: it must not wait for a loaded cooperative pool
    /// to resume it.
    static func claimWaits(_ server: ServerProcess, count: Int = 1) throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            // The gauge's line, "botrix_claims_waiting 1.0": read as a number, so 1 is not 10.
            let lines = try curl(["\(server.baseURL)/metrics"]).output.split(separator: "\n")
            let value = lines.first { $0.hasPrefix("botrix_claims_waiting ") }.flatMap { Double($0.dropFirst(22)) }
            if value == Double(count) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    @Test("a waiting claim whose client hung up takes no job created afterwards")
    func hungUpClaimTakesNothing() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("ghost.mdb"))
        // It asks to wait 30 s (the most a claim may), longer than the 20 s the gauge is watched
        // below: a claim that only timed out, never noticing its client left, fails.
        let ghost = try curl([
            "--max-time", "1", "-X", "POST", "\(server.baseURL)/api/queue/claim", "-H",
            "Content-Type: application/json",
            "-d", #"{"worker_id":"ghost","wait_seconds":30}"#,
        ])
        #expect(ghost.status == 28, "curl did not give up waiting (exit \(ghost.status))")
        // The server has let the claim go (a loaded one can take seconds to notice) before the
        // job comes; a claim that keeps waiting for a client gone fails here.
        let released = try await onOwnThread { try Self.claimWaits(server, count: 0) }
        #expect(released, "the claim kept waiting for a client gone")
        let created = try curl([
            "-X", "POST", "\(server.baseURL)/api/jobs", "-H", "Content-Type: application/json", "-d", #"{"count":1}"#,
        ])
        let id = try #require(created.output.firstMatch(of: /"job_id":"([0-9a-f-]+)"/)?.1)
        try await Task.sleep(for: .milliseconds(500))
        let job = try curl(["\(server.baseURL)/api/jobs/\(id)"]).output
        #expect(job.contains(#""status":"pending""#), "the job went to a client that had left: \(job)")
        #expect(job.contains(#""attempts":0"#), "\(job)")
        #expect(server.stop())
    }

    @Test("a claim waiting when its key is revoked gets 401 when work comes, and the job stays pending")
    func revokedKeyTakesNothing() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("revoked.mdb")
        func key(_ name: String, _ scopes: String...) throws -> String {
            let created = try runProgram(
                binary, ["keys", "create", "--name", name, "--db", database] + scopes.flatMap { ["--scope", $0] })
            return try #require(created.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("btx_") })
                .description
        }
        let worker = try key("worker", "work")
        let admin = try key("admin", "admin")
        let server = try ServerProcess(binary: binary, database: database)
        let waiting = try StreamingCurl(arguments: [
            "-w", "\n%{http_code}", "--max-time", "40", "-X", "POST", "\(server.baseURL)/api/queue/claim",
            "-H", "Authorization: Bearer \(worker)", "-H", "Content-Type: application/json", "-d",
            #"{"worker_id":"w","wait_seconds":30}"#,
        ])
        try #require(try Self.claimWaits(server), "the claim never started waiting")
        let id = String(worker.split(separator: "_")[1])
        #expect(try runProgram(binary, ["keys", "revoke", id, "--db", database]).status == 0)
        let created = try curl([
            "-X", "POST", "\(server.baseURL)/api/jobs", "-H", "Authorization: Bearer \(admin)", "-H",
            "Content-Type: application/json", "-d", #"{"count":1}"#,
        ])
        let job = try #require(created.output.firstMatch(of: /"job_id":"([0-9a-f-]+)"/)?.1)
        #expect(waiting.waitForExit(seconds: 40) == 0)
        #expect(waiting.text.hasSuffix("\n401"), "the waiting claim got \(waiting.text)")
        let view = try curl(["-H", "Authorization: Bearer \(admin)", "\(server.baseURL)/api/jobs/\(job)"]).output
        #expect(view.contains(#""status":"pending""#) && view.contains(#""attempts":0"#), "\(view)")
        #expect(server.stop())
    }

    @Test("SIGTERM answers a waiting claim at once (204) and the server exits promptly")
    func shutdownAnswersWaitingClaims() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("stop.mdb"))
        // Started as a process, not in a task: a loaded test run cannot delay its start.
        let waiting = try StreamingCurl(arguments: [
            "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--max-time", "40", "-X", "POST",
            "\(server.baseURL)/api/queue/claim", "-H", "Content-Type: application/json", "-d",
            #"{"worker_id":"w","wait_seconds":30}"#,
        ])
        // Wait until the claim is waiting (the gauge), then stop the server.
        try #require(try Self.claimWaits(server), "the claim never started waiting")
        #expect(server.stop(timeout: 20), "the server did not exit")
        #expect(waiting.waitForExit(seconds: 40) == 0)
        // curl's own clock: a 204 well before the claim's 30 s wait means the shutdown answered it.
        let parts = waiting.text.split(separator: " ")
        #expect(parts.first == "204", "the waiting claim got \(waiting.text)")
        #expect(
            (parts.last.flatMap { Double($0) } ?? 99) < 25, "shutdown waited for the long poll: \(waiting.text)")
        // The server's own word that the shutdown (not the claim's time running out) answered it.
        #expect(server.log().contains("answered 1 waiting claim"), "\(server.log())")
    }
}
