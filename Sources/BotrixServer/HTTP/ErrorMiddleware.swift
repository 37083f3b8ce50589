import Botrix
import Foundation
public import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The outermost middleware: accepts or generates `X-Request-ID`, echoes it, puts it in
/// the logger, and turns every error into a problem+json answer (or a stored idempotent
/// answer). An unexpected error is logged with its cause and answered 500, never empty.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BotrixRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.requestID = Self.requestID(from: request.headers[.requestID])
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let replay as StoredReplay {
            response = StoredAnswer.response(replay.answer)
        } catch {
            let problem = Problem(error)
            if problem.status == .internalServerError {
                context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            } else if problem.status == .serviceUnavailable {
                context.logger.warning("storage unavailable", metadata: ["error": "\(error)"])
            }
            response = problem.response(instance: request.uri.path, requestID: context.requestID)
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

/// Header names of the API's conventions.
extension HTTPField.Name {
    public static let requestID = Self("X-Request-ID")!
    public static let idempotencyKey = Self("Idempotency-Key")!
    public static let lastEventID = Self("Last-Event-ID")!
    public static let idempotentReplayed = Self("Idempotent-Replayed")!
}
