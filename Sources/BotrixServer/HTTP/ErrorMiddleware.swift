import Botrix
import Foundation
public import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Turns every error into a problem+json answer (or a stored idempotent answer). It sits
/// inside the metrics and CORS middleware, so error answers are counted and carry CORS
/// headers like any other. An unexpected error is logged with its cause and answered 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BotrixRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return Self.answer(error, request, context)
        }
    }

    static func answer(_ error: any Error, _ request: Request, _ context: Context) -> Response {
        if let replay = error as? StoredReplay { return StoredAnswer.response(replay.answer) }
        let problem = Problem(error)
        if problem.status == .internalServerError {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
        } else if problem.status == .serviceUnavailable || problem.status.code == 507 {
            context.logger.warning("storage unavailable", metadata: ["error": "\(error)"])
        }
        return problem.response(instance: request.uri.path, requestID: context.requestID)
    }
}

/// Header names of the API's conventions.
extension HTTPField.Name {
    public static let requestID = Self("X-Request-ID")!
    public static let idempotencyKey = Self("Idempotency-Key")!
    public static let lastEventID = Self("Last-Event-ID")!
    public static let idempotentReplayed = Self("Idempotent-Replayed")!
}
