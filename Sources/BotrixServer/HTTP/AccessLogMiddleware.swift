import HTTPTypes
import Hummingbird
import JSONCoding
import Logging
import NIOCore
import Synchronization

/// One access line per request, written when the answer is complete: method, path, status,
/// duration, body bytes and the request id — what operators grep and ship. It sits just
/// inside ``RequestIDMiddleware`` so it sees the final status of every answer, errors
/// included, and the id that answer carries.
///
/// An answer of known length is complete when the handler returns it; a streamed answer
/// (an event stream, the dashboard's live feed) is logged when its stream ends, however it
/// ends, with the bytes actually written. The query string is left out on purpose: account
/// searches put email addresses there, and a log line is a copy that erasure cannot reach.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = BotrixRequestContext
    /// Info by default: on unless LOG_LEVEL is raised above it.
    var level: Logger.Level = .info

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        let path = request.uri.path
        let logger = context.logger
        let level = self.level
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Reached only when an error escaped the error middleware; the outer middleware
            // still answers, and 500 is what it answers with.
            Self.log(logger, level, method, path, 500, started, bytes: 0, requestID: context.requestID)
            throw error
        }
        let status = response.status.code
        let requestID = context.requestID
        // A HEAD answer carries the length of the body it does not send.
        if let length = response.body.contentLength {
            let bytes = request.method == .head ? 0 : length
            Self.log(logger, level, method, path, status, started, bytes: bytes, requestID: requestID)
            return response
        }
        // Streamed: logged once its stream ends — or, when the client left before the body
        // ever ran (Hummingbird then drops it unrun), when the body is released.
        let line = PendingAccessLine {
            Self.log(logger, level, method, path, status, started, bytes: $0, requestID: requestID)
        }
        let body = response.body
        response.body = ResponseBody { writer in
            defer { line.write() }
            try await body.write(CountingBodyWriter(inner: writer, counter: line.counter))
        }
        return response
    }

    /// The line: a short human message, and the fields as metadata for JSON logs.
    static func log(
        _ logger: Logger, _ level: Logger.Level, _ method: String, _ path: String, _ status: Int,
        _ started: ContinuousClock.Instant, bytes: Int, requestID: String
    ) {
        guard logger.logLevel <= level else { return }
        let statusText = String(status)
        // Plain strings, not boxed numbers: the handler writes them as they are.
        logger.log(
            level: level, "\(method) \(path) \(statusText)",
            metadata: [
                "method": .string(method), "path": .string(path), "status": .string(statusText),
                "duration_ms": .string(milliseconds(since: started)), "bytes": .string(String(bytes)),
                "request_id": .string(requestID),
            ])
    }

    /// The time since `started` in milliseconds with three decimals ("0.077", "12.500").
    static func milliseconds(since started: ContinuousClock.Instant) -> String {
        String(
            decoding: JSONWriting.fixed((ContinuousClock.now - started) / .milliseconds(1), decimals: 3), as: UTF8.self)
    }
}

/// A streamed answer's access line, written exactly once: when its body finishes (or
/// fails), or at the latest when the body is released without having run.
final class PendingAccessLine: Sendable {
    let counter = ByteCounter()
    private let written = Atomic<Bool>(false)
    private let emit: @Sendable (Int) -> Void

    init(_ emit: @escaping @Sendable (Int) -> Void) { self.emit = emit }

    func write() {
        guard !written.exchange(true, ordering: .acquiringAndReleasing) else { return }
        emit(counter.total)
    }

    deinit { write() }
}

/// Bytes written so far by a streamed answer (read once the stream has ended).
final class ByteCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ bytes: Int) { count.add(bytes, ordering: .relaxed) }
    var total: Int { count.load(ordering: .relaxed) }
}

/// Passes a streamed body through unchanged, counting its bytes.
struct CountingBodyWriter: ResponseBodyWriter {
    var inner: any ResponseBodyWriter
    let counter: ByteCounter

    mutating func write(_ buffer: ByteBuffer) async throws {
        let bytes = buffer.readableBytes
        try await inner.write(buffer)
        counter.add(bytes)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await inner.finish(trailingHeaders)
    }
}
