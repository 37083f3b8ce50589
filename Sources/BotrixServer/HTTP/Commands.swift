import Botrix
import HTTPTypes
import Hummingbird

/// Runs a command for a request: event metadata from the request (its id, the API key
/// that acted), and with an `Idempotency-Key` the first answer kept so a retry gets it
/// again. Keys are scoped by API key (or "open"), method and path; the body must match.
struct CommandRunner: Sendable {
    let service: BotrixService

    func run<T: Sendable>(
        _ request: Request, _ context: BotrixRequestContext, actor: String,
        render: @escaping @Sendable (T) -> (HTTPResponse.Status, [UInt8], HTTPFields),
        _ command: (CommandMetadata) async throws -> T
    ) async throws -> Response {
        var metadata = CommandMetadata(requestID: context.requestID, actor: actor, apiKey: context.apiKey?.id)
        if let key = request.headers[.idempotencyKey] {
            guard (1...200).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw Problem.badRequest("Idempotency-Key must be 1 to 200 visible ASCII characters")
            }
            metadata.replay = .init(
                scope: "\(context.apiKey?.id ?? "open") \(request.method) \(request.uri.path)", key: key,
                fingerprint: context.body.fingerprint
            ) { result in
                guard let typed = result as? T else { return [] }
                let (status, body, headers) = render(typed)
                return StoredAnswer.encode(status: status, headers: headers, body: body)
            }
        }
        let (status, body, headers) = render(try await command(metadata))
        if status == .noContent { return Response(status: status, headers: headers) }
        return Render.response(status, body, headers: headers)
    }
}
