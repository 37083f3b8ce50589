import EventLog
import Foundation
import LMDB
import Storage
import TestSupport
import Testing

/// The built server against clients that hold connections without finishing requests,
/// hold too many, revoke their key mid-stream, or read a long log with a rare filter.
@Suite("Connections and live reads", .serialized)
struct ConnectionAbuseTests {
    @Test("half-sent heads and stalled bodies are closed after IDLE_TIMEOUT_SECONDS; others are served meanwhile")
    func slowloris() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(
            binary: binary, database: folder.file("slow.mdb"), environment: ["IDLE_TIMEOUT_SECONDS": "2"])
        var held: [RawConnection] = []
        for n in 0..<300 {
            guard let connection = RawConnection(port: server.port) else { continue }
            if n % 2 == 0 {
                connection.send("GET /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  // the head never ends
            } else {
                connection.send(
                    "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"co"
                )
            }
            held.append(connection)
        }
        #expect(held.count == 300)
        // While they hang, a normal client is served.
        let live = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "\(server.baseURL)/health/live",
        ])
        #expect(live.output == "200")
        // Each is closed by the server once silent for 2 s (generous bound: a loaded machine).
        var open = 0
        for connection in held where !connection.read(within: 15).closed { open += 1 }
        #expect(open == 0, "\(open) of 300 half-sent requests are still open")
        let after = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "\(server.baseURL)/api/jobs",
        ])
        #expect(after.output == "200")
        #expect(server.stop())
    }

    @Test("a body trickled byte by byte gets 408 after BODY_TIMEOUT_SECONDS and appends nothing")
    func trickledBody() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(
            binary: binary, database: folder.file("trickle.mdb"),
            environment: ["BODY_TIMEOUT_SECONDS": "2", "IDLE_TIMEOUT_SECONDS": "30"])
        let connection = try #require(RawConnection(port: server.port))
        connection.send(
            "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
        )
        var answer = ""
        for _ in 0..<40 where answer.isEmpty {
            connection.send(" ")
            answer = connection.read(within: 0.5).text
        }
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer.prefix(200))")
        #expect(answer.contains("/problems/body-timeout"))
        let events = try curl(["\(server.baseURL)/api/events"])
        #expect(events.output.contains(#""data":[]"#), "\(events.output)")
        #expect(server.stop())
    }

    @Test(
        "a key revoked while its request's body is arriving gets 401 when the body ends, even for a bad body; nothing is done"
    )
    func revokedMidBody() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("revoked-mid-body.mdb")
        func key(_ name: String, _ scope: String) throws -> String {
            let created = try runProgram(
                binary, ["keys", "create", "--name", name, "--db", database, "--scope", scope])
            return try #require(created.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("btx_") })
                .description
        }
        let reader = try key("reader", "read")
        let server = try ServerProcess(
            binary: binary, database: database,
            environment: ["BODY_TIMEOUT_SECONDS": "30", "IDLE_TIMEOUT_SECONDS": "30"])
        // Headers and part of the body, a revocation, then the rest: the answer. A starved
        // server may read the headers only after the revocation (then they are refused at
        // once), so each case gets three tries to show the check made once the body is in.
        func revokedWhileSending(_ body: String, try number: Int) async throws -> String {
            let token = try key("operator-\(number)", "operate")
            let connection = try #require(RawConnection(port: server.port))
            connection.send(
                "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                    + String(body.prefix(4)))
            try await Task.sleep(for: .milliseconds(200))
            let id = String(token.split(separator: "_")[1])
            #expect(try runProgram(binary, ["keys", "revoke", id, "--db", database]).status == 0)
            connection.send(String(body.dropFirst(4)))
            return connection.read(within: 20).text  // returns when the server closes
        }
        var number = 0
        for body in [#"{"count":2}"#, #"{"count":2,"bogus":1}"#] {
            var caughtMidBody = false
            for _ in 0..<3 where !caughtMidBody {
                number += 1
                let answer = try await revokedWhileSending(body, try: number)
                #expect(answer.hasPrefix("HTTP/1.1 401"), "\(body): \(answer.prefix(300))")
                caughtMidBody = answer.contains("was revoked while the request was arriving")
            }
            #expect(caughtMidBody, "\(body): never refused once the body was in")
        }
        let jobs = try curl(["\(server.baseURL)/api/jobs", "-H", "Authorization: Bearer \(reader)"])
        #expect(jobs.output.contains(#""data":[]"#), "a job was created: \(jobs.output)")
        #expect(server.stop())
    }

    @Test("an anonymous write whose body is still arriving when the first key is created gets 401; nothing is done")
    func firstKeyMidBody() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("open-mid-body.mdb")
        let server = try ServerProcess(
            binary: binary, database: database,
            environment: ["SERVER_ENV": "development", "BODY_TIMEOUT_SECONDS": "30", "IDLE_TIMEOUT_SECONDS": "30"])
        let body = #"{"count":2}"#
        let connection = try #require(RawConnection(port: server.port))
        connection.send(
            "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(4)))
        try await Task.sleep(for: .milliseconds(200))
        let created = try runProgram(
            binary, ["keys", "create", "--name", "first", "--db", database, "--scope", "read"])
        let reader = try #require(created.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("btx_") })
        connection.send(String(body.dropFirst(4)))
        let answer = connection.read(within: 20).text
        // Either way nothing is done; the check once the body is in names the key created.
        #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer.prefix(300))")
        let jobs = try curl(["\(server.baseURL)/api/jobs", "-H", "Authorization: Bearer \(reader)"])
        #expect(jobs.output.contains(#""data":[]"#), "a job was created: \(jobs.output)")
        #expect(server.stop())
    }

    @Test("past MAX_CONNECTIONS a client waits until a connection closes, then is served")
    func connectionCap() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(
            binary: binary, database: folder.file("cap.mdb"),
            environment: ["MAX_CONNECTIONS": "4", "IDLE_TIMEOUT_SECONDS": "120"])
        var held = (0..<4).compactMap { _ in RawConnection(port: server.port) }
        #expect(held.count == 4)
        // Each held connection is accepted: a request on it is answered.
        for connection in held {
            connection.send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(connection.read(within: 10).text.hasPrefix("HTTP/1.1 200"))
        }
        let waiting = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "\(server.baseURL)/health/live",
        ])
        #expect(waiting.output == "000", "a fifth connection was served beside four held ones")
        // One held connection closes; the next client gets in.
        held.removeFirst()
        let served = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "\(server.baseURL)/health/live",
        ])
        #expect(served.output == "200")
        withExtendedLifetime(held) {}
        #expect(server.stop())
    }

    @Test("revoking a key on a running server ends its open event stream and refuses its next request")
    func revocationEndsStream() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("revoke.mdb")
        let created = try runProgram(
            binary, ["keys", "create", "--name", "reader", "--scope", "read", "--db", database])
        let token = try #require(created.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("btx_") })
        let id = token.split(separator: "_")[1]
        let server = try ServerProcess(binary: binary, database: database)
        let stream = try StreamingCurl(
            url: "\(server.baseURL)/api/events/stream", headers: ["Authorization: Bearer \(token)"])
        #expect(stream.waitUntilConnected(), "the stream did not open: \(stream.text)")
        let revoked = try runProgram(binary, ["keys", "revoke", String(id), "--db", database])
        #expect(revoked.status == 0, "\(revoked.error)")
        // curl exits 0 when the server ended the stream, 28 when its own 60 s limit did.
        let status = stream.waitForExit(seconds: 65)
        #expect(status == 0, "the stream was not ended by the server (curl exit \(String(describing: status)))")
        #expect(stream.text.contains("event: revoked"))
        let again = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
            "\(server.baseURL)/api/jobs",
        ])
        #expect(again.output == "401")
        #expect(server.stop())
    }

    @Test("an open development server without SERVER_HOST listens on 127.0.0.1 and says why")
    func openModeBindsLoopback() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(
            binary: binary, database: folder.file("open.mdb"), environment: ["SERVER_HOST": ""], host: nil)
        #expect(server.log().contains("listening on 127.0.0.1:"))
        #expect(server.log().contains("127.0.0.1 only"))
        #expect(server.stop())
    }

    @Test("eight rare-type reads of a 100,000-event log at once: each is bounded, and /health/live answers")
    func boundedReadsBesideProbes() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("long.mdb")
        do {
            let environment = try Environment(.init(path: database, mapSize: 1 << 28, durability: .nosync))
            let log = try EventLog(environment: environment)
            let writer = try GroupCommitWriter(log: log)
            let data = Array(#"{"n":1}"#.utf8)
            for _ in 0..<100 {
                _ = try await writer.perform { ltx in
                    for n in 0..<1000 {
                        _ = try ltx.append(
                            AppendRequest(
                                stream: "filler-\(n % 7)", events: [ProposedEvent(type: "Filler", data: data)]))
                    }
                }
            }
            await writer.shutdown()
        }
        let server = try ServerProcess(binary: binary, database: database, environment: ["READ_SCAN_BUDGET": "10000"])
        let reads = (0..<8).map { _ in
            Task.detached {
                try curl(["--max-time", "60", "\(server.baseURL)/api/events?type=JobCancelled&limit=10"]).output
            }
        }
        let probe = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "\(server.baseURL)/health/live",
        ])
        #expect(probe.output == "200")
        for read in reads {
            let output = try await read.value
            // Each stopped at its budget: nothing found, and a cursor 10,000 entries on.
            #expect(output.contains(#""data":[]"#) && output.contains(#""more":true"#), "\(output.prefix(300))")
            #expect(output.contains(#""next_after":10000"#), "\(output.prefix(300))")
        }
        #expect(server.stop())
    }

    @Test("a body no route reads (a 401, a 404) trickled byte by byte is cut off after BODY_TIMEOUT_SECONDS")
    func trickledUnreadBody() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("unread.mdb")
        _ = try runProgram(binary, ["keys", "create", "--name", "ops", "--scope", "admin", "--db", database])
        let server = try ServerProcess(
            binary: binary, database: database,
            environment: ["BODY_TIMEOUT_SECONDS": "2", "IDLE_TIMEOUT_SECONDS": "30", "MAX_CONNECTIONS": "8"])
        var connections: [RawConnection] = []
        for path in ["/api/jobs", "/api/nothing-here", "/health/live"] {
            let connection = try #require(RawConnection(port: server.port))
            connection.send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
            connections.append(connection)
        }
        // Trickle a byte each 0.5 s (never silent long enough for the idle timeout) for 12 s at most.
        var closed = Set<Int>()
        for _ in 0..<24 where closed.count < connections.count {
            for (index, connection) in connections.enumerated() where !closed.contains(index) {
                connection.send("x")
                if connection.read(within: 0.15).closed { closed.insert(index) }
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(
            closed.count == connections.count, "\(connections.count - closed.count) trickling connections stay open")
        #expect(server.stop())
    }

    @Test("a client that pipelines requests and never reads the answers is closed once writes stall")
    func neverReads() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("noread.mdb")
        do {
            let environment = try Environment(.init(path: database, mapSize: 1 << 26, durability: .nosync))
            let writer = try GroupCommitWriter(log: try EventLog(environment: environment))
            let data = Array(String(repeating: "x", count: 300).utf8)
            let payload = Array(#"{"pad":""#.utf8) + data + Array(#""}"#.utf8)
            _ = try await writer.perform { ltx in
                for n in 0..<2000 {
                    _ = try ltx.append(
                        AppendRequest(stream: "filler-\(n % 5)", events: [ProposedEvent(type: "Filler", data: payload)])
                    )
                }
            }
            await writer.shutdown()
        }
        let server = try ServerProcess(
            binary: binary, database: database, environment: ["IDLE_TIMEOUT_SECONDS": "2"])
        let connection = try #require(RawConnection(port: server.port))
        // About 200 answers of ~0.6 MB each: far more than the socket buffers hold.
        for _ in 0..<200 { connection.send("GET /api/events?limit=1000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") }
        try await Task.sleep(for: .seconds(8))
        // Now read: the stream of answers must end (closed by the server), not go on for ~120 MB.
        var total = 0
        var closed = false
        for _ in 0..<60 where !closed {
            let chunk = connection.read(within: 0.5)
            total += chunk.text.utf8.count
            closed = chunk.closed
        }
        #expect(closed, "the server still serves a client that did not read for 8 s")
        #expect(total < 60_000_000, "read \(total) bytes")
        let live = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "\(server.baseURL)/health/live",
        ])
        #expect(live.output == "200")
        #expect(server.stop())
    }

    @Test("an anonymous event stream opened while the API was open ends when the first key is created")
    func openStreamEndsWithFirstKey() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("openstream.mdb")
        let server = try ServerProcess(binary: binary, database: database)
        let stream = try StreamingCurl(url: "\(server.baseURL)/api/events/stream")
        #expect(stream.waitUntilConnected(), "the stream did not open: \(stream.text)")
        let created = try runProgram(binary, ["keys", "create", "--name", "ops", "--scope", "read", "--db", database])
        #expect(created.status == 0)
        let status = stream.waitForExit(seconds: 65)
        #expect(
            status == 0, "the anonymous stream was not ended by the server (curl exit \(String(describing: status)))")
        #expect(stream.text.contains("event: revoked"))
        #expect(server.stop())
    }
}
