import HTTPTypes
import Hummingbird

/// CORS from `CORS_ALLOWED_ORIGINS`: an `Origin` on the list (or any, with `*`) is echoed
/// back; preflight `OPTIONS` requests are answered here. No list, no CORS headers.
struct CORSPolicy: RouterMiddleware {
    typealias Context = BotrixRequestContext
    let allowed: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let origin = request.headers[.origin], allowed.contains("*") || allowed.contains(origin) else {
            return try await next(request, context)
        }
        var headers: HTTPFields = [
            .accessControlAllowOrigin: allowed.contains("*") ? "*" : origin,
            .accessControlExposeHeaders: "ETag, X-Request-ID, Retry-After, Location, Idempotent-Replayed",
            .vary: "Origin",
        ]
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
            headers[.accessControlAllowHeaders] =
                "Content-Type, Authorization, If-Match, Idempotency-Key, X-Request-ID, Last-Event-ID"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        for field in headers { response.headers[field.name] = field.value }
        return response
    }
}
