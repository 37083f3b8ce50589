import Botrix
import HTTPTypes
import Hummingbird

/// Runs a command for a request: event metadata from the request, and with an
/// `Idempotency-Key` the first answer kept so a retry gets it again.
struct CommandRunner: Sendable {
    let service: BotrixService

    func run<T: Sendable>(
        _ request: Request, _ context: BotrixRequestContext, actor: String,
        render: @escaping @Sendable (T) -> (HTTPResponse.Status, [UInt8], HTTPFields),
        _ command: (CommandMetadata) async throws -> T
    ) async throws -> Response {
        var metadata = CommandMetadata(requestID: context.requestID, actor: actor)
        if let key = request.headers[.idempotencyKey] {
            guard (1...200).contains(key.utf8.count) else {
                throw Problem.badRequest("Idempotency-Key must be 1 to 200 characters")
            }
            metadata.replay = .init(key: "\(request.method) \(request.uri.path) \(key)") { result in
                guard let typed = result as? T else { return [] }
                let (status, body, _) = render(typed)
                return StoredAnswer.encode(status: status, body: body)
            }
        }
        let (status, body, headers) = render(try await command(metadata))
        if status == .noContent { return Response(status: status, headers: headers) }
        return Render.response(status, body, headers: headers)
    }
}
