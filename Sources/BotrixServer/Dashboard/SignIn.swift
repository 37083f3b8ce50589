import Botrix
import Foundation
import Hummingbird

/// Sign-in and sign-out. The key travels once, in a POST body; the browser keeps only the
/// session cookie, which scripts cannot read. In open mode there is nothing to sign in to.
extension Dashboard {
    func loginPage(_ request: Request, _ context: BotrixRequestContext) throws -> Response {
        let next = SafeNext.path(request.uri.queryParameters["next"].map(String.init))
        if access.isOpen || context.dashboardSession?.key != nil { return Self.redirect(next) }
        return renderer.page("login", loginModel(context, next: next))
    }

    func signIn(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        try SameOrigin.check(request)
        let form = try await DashboardForm.read(request)
        let next = SafeNext.path(form["next"])
        if access.isOpen { return Self.redirect(next) }
        func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
            var model = loginModel(context, next: next)
            model["flashError"] = message
            return renderer.page("login", model, status: status)
        }
        let token = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { return refuse(.badRequest, "Paste an API key to sign in.") }
        // Only failed attempts count against the client's address: a valid key always gets
        // in, so someone sharing the address (a proxy, a NAT) cannot lock others out.
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        switch try access.keys.authenticate(token) {
        case .failure(let error):
            try signInLimits.take(address, what: "failed sign-in attempts from one address")
            return refuse(.unauthorized, "That key was not accepted: \(error.description).")
        case .success(let key):
            guard key.allows(.read) else {
                return refuse(
                    .forbidden,
                    "The key \(key.id) lacks the read scope the dashboard needs (it has \(key.scopes.map(\.rawValue).sorted().joined(separator: ", ")))."
                )
            }
            // A new session for every sign-in: a cookie planted before it is worth nothing after.
            if let old = context.dashboardSession { sessions.end(old.handle) }
            let (cookie, _) = sessions.start(key: key)
            context.logger.info("dashboard sign-in", metadata: ["key": "\(key.id)"])
            return Self.redirect(next, cookie: Self.cookie(cookie, request))
        }
    }

    func signOut(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let (_, session) = try await checkedForm(request, context)
        if session.key != nil { sessions.end(session.handle) }
        return Self.redirect("/ui/login", cookie: Self.expiredCookie(request))
    }

    private func loginModel(_ context: BotrixRequestContext, next: String) -> [String: Any] {
        var model = base(context)
        model["signedIn"] = false
        model["next"] = next
        return model
    }
}
