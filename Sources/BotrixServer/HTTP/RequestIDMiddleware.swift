import Hummingbird
import Synchronization

/// The outermost middleware: accepts or generates `X-Request-ID`, puts it in the logger
/// and the context, sets the request's limits, and echoes the id on every answer.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = BotrixRequestContext
    /// How long a body may take to arrive (BODY_TIMEOUT_SECONDS).
    var bodyTimeout: Duration = .seconds(30)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.requestID = Self.requestID(from: request.headers[.requestID])
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        context.bodyTimeout = bodyTimeout
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Only reached if an error escaped ErrorMiddleware; still an answer, not a drop.
            response = ErrorMiddleware.answer(error, request, context)
        }
        response.headers[.requestID] = context.requestID
        return response
    }

    /// A client's id is kept when it is 1...128 visible ASCII characters; otherwise a new
    /// one: this process's random prefix and a counter (unique, and cheaper than a UUID).
    static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count), header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            return header
        }
        let number = counter.add(1, ordering: .relaxed).newValue
        return prefix + String(number, radix: 16)
    }

    private static let prefix = String(UInt64.random(in: 1 << 60..<UInt64.max), radix: 16) + "-"
    private static let counter = Atomic<UInt64>(0)
}
