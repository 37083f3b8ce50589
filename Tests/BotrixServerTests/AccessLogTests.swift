import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONCoding
import Logging
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import Botrix
@testable import BotrixServer

@Suite("Access log")
struct AccessLogTests {
    @Test("the real stack logs one line per answer, once, with its final status, bytes and request id")
    func oneLinePerAnswer() async throws {
        let harness = try APIHarness()
        let logs = CapturedLogs()
        let key = try harness.key(.read, .operate)
        try await harness.app(logger: logs.logger(level: .info)).test(.router) { client in
            var headers = key
            headers[.requestID] = "access-1"
            let created = try await client.call(
                .post, "/api/jobs", json: #"{"count":1}"#, headers: headers)
            #expect(created.status == .created)
            headers[.requestID] = "access-2"
            let missing = try await client.call(.get, "/api/jobs/nope?search=secret%40example.com", headers: headers)
            // A malformed id: the route throws and the error middleware answers 400.
            #expect(missing.status == .badRequest)
            headers[.requestID] = "access-3"
            let refused = try await client.call(.get, "/api/jobs", headers: [.requestID: "access-3"])
            #expect(refused.status == .unauthorized)

            let lines = logs.lines.filter { $0.metadata["path"] != nil }
            #expect(lines.count == 3, "\(lines.map(\.message))")
            let byID = Dictionary(grouping: lines) { $0.metadata["request_id"] ?? "" }
            #expect(byID["access-1"]?.first?.metadata["status"] == "201")
            #expect(byID["access-1"]?.first?.metadata["method"] == "POST")
            #expect(byID["access-1"]?.first?.metadata["bytes"] == String(created.text.utf8.count))
            let notFound = byID["access-2"]?.first
            #expect(notFound?.metadata["status"] == "400")
            #expect(notFound?.metadata["path"] == "/api/jobs/nope", "the query string stays out of the log")
            #expect(notFound?.metadata["bytes"] == String(missing.text.utf8.count))
            #expect(notFound?.message == "GET /api/jobs/nope 400")
            #expect(byID["access-3"]?.first?.metadata["status"] == "401")
            #expect(lines.allSatisfy { Double($0.metadata["duration_ms"] ?? "") ?? -1 >= 0 })
            #expect(!logs.lines.contains { $0.message == "Request" }, "the old arrival line is gone")
        }
    }

    @Test("a HEAD answer is logged with 0 bytes: its body is not sent")
    func headCountsNoBytes() async throws {
        let harness = try APIHarness()
        let logs = CapturedLogs()
        try await harness.app(logger: logs.logger(level: .info)).test(.router) { client in
            let answer = try await client.call(.head, "/api/nothing-here", headers: [.requestID: "head-1"])
            #expect(answer.status == .notFound)
            let line = logs.lines.first { $0.metadata["request_id"] == "head-1" && $0.metadata["path"] != nil }
            #expect(line?.metadata["method"] == "HEAD")
            #expect(line?.metadata["bytes"] == "0", "\(line?.metadata ?? [:])")
        }
    }

    @Test("a streamed answer is logged when its stream ends, with the bytes it wrote")
    func streamedAnswer() async throws {
        let logs = CapturedLogs()
        let router = Router(context: BotrixRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware())
        let released = Mutex(false)
        router.get("/stream") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    // Nothing is logged while the stream runs.
                    #expect(logs.lines.filter { $0.metadata["path"] == "/stream" }.isEmpty)
                    for chunk in ["one,", "two,", "three"] { try await writer.write(ByteBuffer(string: chunk)) }
                    released.withLock { $0 = true }
                    try await writer.finish(nil)
                })
        }
        let app = Application(router: router, logger: logs.logger(level: .info))
        try await app.test(.router) { client in
            let text = try await client.execute(uri: "/stream", method: .get, headers: [.requestID: "s-1"]) {
                String(buffer: $0.body)
            }
            #expect(text == "one,two,three")
        }
        #expect(released.withLock { $0 })
        let line = logs.lines.first { $0.metadata["path"] == "/stream" }
        #expect(line?.metadata["bytes"] == "13")
        #expect(line?.metadata["status"] == "200")
        #expect(line?.metadata["request_id"] == "s-1")
        #expect(logs.lines.filter { $0.metadata["path"] == "/stream" }.count == 1)
    }

    @Test("a streamed answer whose body never runs (the client left first) still gets its one line")
    func unrunBody() {
        let lines = Mutex<[Int]>([])
        do {
            let line = PendingAccessLine { bytes in lines.withLock { $0.append(bytes) } }
            // What the middleware hands Hummingbird; Hummingbird drops it unrun when writing
            // the head fails.
            let body = ResponseBody { _ in line.write() }
            _ = body
        }
        #expect(lines.withLock { $0 } == [0])
        do {
            let line = PendingAccessLine { bytes in lines.withLock { $0.append(bytes) } }
            line.counter.add(42)
            line.write()
            line.write()
        }
        #expect(lines.withLock { $0 } == [0, 42], "written once when the body ends, not again on release")
    }

    @Test("raising LOG_LEVEL above info turns the access lines off")
    func quietAboveInfo() async throws {
        let harness = try APIHarness()
        let logs = CapturedLogs()
        try await harness.app(logger: logs.logger(level: .warning)).test(.router) { client in
            let ping = try await client.call(.get, "/health/ping")
            #expect(ping.status == .ok)
        }
        #expect(logs.lines.filter { $0.metadata["path"] != nil }.isEmpty)
    }
}

/// Keeps every log line a test's logger receives.
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let storage = Mutex<[Line]>([])
    var lines: [Line] { storage.withLock { $0 } }

    func logger(level: Logger.Level) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(sink: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: Line) { storage.withLock { $0.append(line) } }

    private struct Handler: MetadataStoringLogHandler {
        let sink: CapturedLogs
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append(
                Line(
                    level: event.level, message: "\(event.message)",
                    metadata: merged.mapValues { "\($0)" }))
        }
    }
}

@Suite("Text log lines")
struct TextLogLineTests {
    @Test("time, level, label, message, then metadata sorted by key; line breaks cannot forge a line")
    func format() {
        var handler = TextLogHandler(label: "botrix")
        handler[metadataKey: "request_id"] = "r-1"
        let event = LogEvent(
            level: .info, message: "GET /x 200\nforged 500",
            metadata: ["status": "200", "bytes": .stringConvertible(12)],
            source: "BotrixServer", file: #fileID, function: #function, line: #line)
        let line = String(decoding: handler.line(for: event, at: 1_767_323_045_678), as: UTF8.self)
        #expect(
            line == "2026-01-02T03:04:05.678Z info botrix: GET /x 200\\nforged 500 bytes=12 request_id=r-1 status=200\n"
        )
        #expect(line.filter { $0 == "\n" }.count == 1)
        // The event's value wins over the handler's for one key; a carriage return is escaped too.
        handler[metadataKey: "status"] = "999"
        let second = LogEvent(
            level: .info, message: "a\rb", metadata: ["status": "201"], source: "BotrixServer", file: #fileID,
            function: #function, line: #line)
        #expect(
            String(decoding: handler.line(for: second, at: 0), as: UTF8.self)
                == "1970-01-01T00:00:00.000Z info botrix: a\\rb request_id=r-1 status=201\n")
    }
}

@Suite("JSON log lines")
struct JSONLogLineTests {
    @Test(
        "one object per line, keys in byte order; the event's metadata beats the handler's, both beat the fixed fields")
    func agreesWithMergedDictionaries() throws {
        let keys = ["request_id", "status", "message", "level", "label", "path", "é", "Z", "bytes", "time"]
        var generator = SplitMix(seed: 0x106)
        for round in 0..<300 {
            var handler = JSONLogHandler(label: "botrix")
            var expectedHandler: [String: String] = [:]
            var event: Logger.Metadata = [:]
            for key in keys {
                switch generator.next(upTo: 4) {
                case 0:
                    handler[metadataKey: key] = .string("h\(round)\n\"")
                    expectedHandler[key] = "h\(round)\n\""
                case 1: event[key] = .stringConvertible(round)
                case 2:
                    handler[metadataKey: key] = "h"
                    expectedHandler[key] = "h"
                    event[key] = .string("e\(key)")
                default: break
                }
            }
            let logEvent = LogEvent(
                level: .warning, message: "GET /x 200", metadata: event, source: "BotrixServer", file: #fileID,
                function: #function, line: #line)
            let line = handler.line(for: logEvent, at: 1_767_323_045_678)
            #expect(line.last == UInt8(ascii: "\n") && line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
            // The reference: the fixed fields, overwritten by the handler's, then the event's.
            var expected: [String: String] = [
                "label": "botrix", "level": "warning", "message": "GET /x 200", "time": "2026-01-02T03:04:05.678Z",
            ]
            expected.merge(expectedHandler) { $1 }
            expected.merge(event.mapValues { "\($0)" }) { $1 }
            let parsed = try #require(
                try JSONSerialization.jsonObject(with: Data(line.dropLast())) as? [String: String])
            #expect(parsed == expected)
            var reference = JSONObjectWriter()
            for key in expected.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                reference.string(key, expected[key]!)
            }
            #expect(Array(line.dropLast()) == reference.bytes(), "keys in byte order")
        }
    }
}
