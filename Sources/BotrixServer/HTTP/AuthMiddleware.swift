import Botrix
import HTTPTypes
import Hummingbird

/// `Authorization: Bearer <key>` with scopes. `/health/*` stays open (and `/metrics`
/// unless METRICS_PUBLIC=false); while ``AccessPolicy`` says the API is open (development
/// with no key created) every route is. Decided per request, so a key created or revoked
/// on a running server counts at once. 401 for a missing, malformed, unknown or revoked
/// key; 403 naming the scope the key lacks.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = BotrixRequestContext
    let access: AccessPolicy
    let metricsPublic: Bool
    var keys: APIKeyStore { access.keys }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let scope = Self.requiredScope(request.method, context.endpointPath, metricsPublic: metricsPublic) else {
            return try await next(request, context)
        }
        if access.isOpen {
            var context = context
            context.openAccess = true
            context.stillAuthorized = access.stillAuthorized(keyID: nil, openAccess: true)
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw Self.unauthorized(
                "this route needs an API key with the \(scope.rawValue) scope: send Authorization: Bearer <key>")
        }
        guard header.lowercased().hasPrefix("bearer ") else {
            throw Self.unauthorized("use Authorization: Bearer <key>")
        }
        switch try keys.authenticate(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) {
        case .failure(let error):
            throw Self.unauthorized(error.description)
        case .success(let key):
            guard key.allows(scope) else {
                throw Problem(
                    status: .forbidden, slug: "missing-scope", title: "Missing scope",
                    detail: "the key \(key.id) lacks the \(scope.rawValue) scope this route needs")
            }
            var context = context
            context.apiKey = key
            context.stillAuthorized = access.stillAuthorized(keyID: key.id, openAccess: false)
            return try await next(request, context)
        }
    }

    static func unauthorized(_ detail: String) -> Problem {
        Problem(
            status: .unauthorized, slug: "unauthorized", title: "Unauthorized", detail: detail,
            headers: [.wwwAuthenticate: "Bearer realm=\"botrix\""])
    }

    /// The scope a route needs; nil for open routes.
    static func requiredScope(_ method: HTTPRequest.Method, _ path: String?, metricsPublic: Bool) -> Scope? {
        guard let path else { return nil }
        if path.hasPrefix("/health") { return nil }
        // The dashboard signs its pages in itself (a session cookie; see DashboardGate).
        if path == "/" || path == "/ui" || path.hasPrefix("/ui/") { return nil }
        if path == "/metrics" { return metricsPublic ? nil : .read }
        if method == .get { return .read }
        switch (method, path) {
        case (.post, "/api/jobs"), (.post, "/api/accounts"), (.post, "/api/jobs/{id}/cancel"),
            (.put, "/api/accounts/{id}"), (.delete, "/api/accounts/{id}"):
            return .operate
        case (.post, "/api/queue/claim"), (.post, "/api/jobs/{id}/heartbeat"), (.post, "/api/jobs/{id}/progress"),
            (.post, "/api/jobs/{id}/accounts"), (.post, "/api/jobs/{id}/complete"), (.post, "/api/jobs/{id}/fail"),
            (.post, "/api/jobs/{id}/release"),
            (.put, "/api/jobs/{id}"):
            return .work
        default:
            return .admin
        }
    }
}
