import Botrix
import Foundation
import HTTPTypes
import Hummingbird

/// The operator's dashboard under `/ui`: server-rendered pages over the same service the
/// API uses, behind its own sign-in (an API key exchanged once for an HttpOnly session
/// cookie). Its reads run on a read pool of their own, so pages never queue the API's
/// reads; the live feed takes a slot of the key's stream limit like any event stream.
struct Dashboard: Sendable {
    let service: BotrixService
    let access: AccessPolicy
    let sessions: DashboardSessions
    /// The dashboard's own read thread: however heavy its pages, they use at most one core
    /// and never queue the API's reads.
    let reads: ReadPool
    /// Pages and live regions per session owner; sign-in attempts per client address.
    let pageLimits: DashboardLimits
    let signInLimits: DashboardLimits
    let streams: StreamSlots
    let sampler: ThroughputSampler
    let renderer: DashboardRenderer
    let assets: DashboardAssets
    let scanBudget: Int
    /// Events a replay page may fold (a few seconds of one read thread); beyond it the page
    /// points at `botrix replay`.
    var replayBudget: UInt64 = 200_000
    /// One replay at a time: a replay holds the dashboard's read thread for seconds.
    let replays = ReplaySlot()
    let startedAt = Date()
    /// Live regions rendered in the last second, shared by every open page (see ``live(_:_:_:)``).
    let fragments = FragmentCache()

    func register(on router: Router<BotrixRequestContext>) {
        router.get("/") { _, _ in Self.redirect("/ui/") }
        let ui = router.group("ui").add(middleware: DashboardGate(dashboard: self))
        ui.get("assets/{name}") { request, context in
            guard let response = assets.response(context.parameters.get("name") ?? "", request) else {
                throw DashboardProblem.notFound("no such file")
            }
            return response
        }
        ui.get("login") { request, context in try loginPage(request, context) }
        ui.post("login") { request, context in try await signIn(request, context) }
        ui.post("logout") { request, context in try await signOut(request, context) }
        ui.get("live") { request, context in try liveFeed(request, context) }
        ui.get { request, context in try await live(request, context) { try await overview($0, $1) } }
        ui.get("jobs") { request, context in try await live(request, context) { try await jobsPage($0, $1) } }
        ui.get("jobs/{id}") { request, context in try await live(request, context) { try await jobPage($0, $1) } }
        ui.get("jobs/{id}/cancel") { request, context in try await cancelPage(request, context) }
        ui.post("jobs/{id}/cancel") { request, context in try await cancel(request, context) }
        ui.get("accounts") { request, context in try await accountsPage(request, context) }
        ui.get("accounts/{id}") { request, context in
            try await live(request, context) { try await accountPage($0, $1) }
        }
        ui.get("events") { request, context in try await eventsPage(request, context) }
        ui.get("replay") { request, context in try await replayPage(request, context) }
        ui.get("health") { request, context in try await healthPage(request, context) }
        ui.get("**") { request, _ -> Response in
            throw DashboardProblem.notFound("there is no dashboard page at \(request.uri.path)")
        }
        ui.post("**") { request, _ -> Response in
            throw DashboardProblem.notFound("nothing on the dashboard takes a form at \(request.uri.path)")
        }
    }

    /// What every page's layout needs: the session's name and form token, the nav, the log
    /// head (the live script compares it with the feed's), the asset version.
    func base(_ context: BotrixRequestContext, nav: String? = nil, live: Bool = false) -> [String: Any] {
        var model: [String: Any] = [
            "assetVersion": assets.version, "version": BotrixVersion.current, "live": live ? "1" : "0",
            "head": String((try? service.head().sequence) ?? 0),
        ]
        if let nav { model["nav\(nav)"] = true }
        if let session = context.dashboardSession {
            model["signedIn"] = true
            model["who"] = session.who
            model["csrf"] = session.csrfToken
            model["canSignOut"] = session.key != nil
            model["openMode"] = session.key == nil
            model["canOperate"] = session.allows(.operate)
        }
        return model
    }

    /// Tokens of the page limit a request takes: filters that walk without an index (a
    /// priority, an event type, an account search, a job's accounts of one status) read up
    /// to 2,000 entries.
    static func cost(_ request: Request) -> Double {
        let query = request.uri.queryParameters
        let filtered = { (name: String) in !(query[Substring(name)] ?? "").isEmpty }
        let unindexed =
            (request.uri.path.hasPrefix("/ui/jobs") && filtered("priority"))
            || (request.uri.path.hasPrefix("/ui/accounts")
                && (filtered("q") || (filtered("job") && filtered("status"))))
            || (request.uri.path.hasPrefix("/ui/events") && !(query["type"] ?? "").isEmpty)
            || request.uri.path.hasPrefix("/ui/replay") || request.uri.path.hasPrefix("/ui/health")
        return unindexed ? 10 : 1
    }

    /// True for `?fragment=1`: only the page's live region is rendered (the live script
    /// fetches it when the log moves).
    static func wantsFragment(_ request: Request) -> Bool { request.uri.queryParameters["fragment"] == "1" }

    static func redirect(_ location: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        if let cookie { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// The session for a request: the one its cookie names while its key is still active,
    /// or, in open mode, the one open-mode session (no cookie). A session whose key was
    /// revoked is ended.
    func resolveSession(_ request: Request) throws -> (session: DashboardSession?, setCookie: String?) {
        if let token = request.cookies[DashboardSessions.cookieName]?.value,
            let session = sessions.session(token: token)
        {
            if let key = session.key, try access.keys.isActive(id: key.id) { return (session, nil) }
            sessions.end(session.handle)
            return (nil, Self.expiredCookie(request))
        }
        guard access.isOpen else { return (nil, nil) }
        // Open mode keeps no session: every browser acts as the open API does, and its forms
        // carry the server's open-mode token (no other site can read it).
        return (sessions.openSession, nil)
    }

    /// The session cookie: only for /ui, never readable by scripts, never sent by another
    /// site's requests; `Secure` when the request came over HTTPS through a proxy.
    static func cookie(_ token: String, _ request: Request) -> String {
        "\(DashboardSessions.cookieName)=\(token); Path=/ui; HttpOnly; SameSite=Strict\(secure(request))"
    }

    static func expiredCookie(_ request: Request) -> String {
        "\(DashboardSessions.cookieName)=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict\(secure(request))"
    }

    private static func secure(_ request: Request) -> String {
        request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https" ? "; Secure" : ""
    }

    /// A POST from a dashboard page: same site, signed in, and carrying the session's form
    /// token. Returns the form and the session.
    func checkedForm(_ request: Request, _ context: BotrixRequestContext) async throws -> (
        DashboardForm, DashboardSession
    ) {
        try SameOrigin.check(request)
        guard let session = context.dashboardSession else {
            throw DashboardProblem(
                status: .unauthorized, heading: "Signed out", detail: "your session ended: sign in again")
        }
        let form = try await DashboardForm.read(request)
        guard let token = form["csrf"], DashboardSessions.same(token, session.csrfToken) else {
            throw DashboardProblem.crossSite("the form's token is missing or is not this session's")
        }
        return (form, session)
    }

    /// The error page for anything a page throws.
    func errorPage(_ error: any Error, _ request: Request, _ context: BotrixRequestContext) -> Response {
        let problem = DashboardProblem(error)
        if problem.status == .internalServerError {
            context.logger.error("dashboard page failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        var model = base(context)
        model["heading"] = problem.heading
        model["detail"] = problem.detail
        if let back = problem.back { model["back"] = back }
        if !context.requestID.isEmpty { model["requestID"] = context.requestID }
        return renderer.page("error", model, status: problem.status, headers: problem.headers)
    }
}

/// Resolves the dashboard session of every `/ui` request and turns errors into HTML pages.
/// Without a session a page redirects to sign-in (a GET) or is refused (anything else);
/// the sign-in page and the static files need none.
struct DashboardGate: RouterMiddleware {
    typealias Context = BotrixRequestContext
    let dashboard: Dashboard

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        var setCookie: String?
        var response: Response
        do {
            let path = request.uri.path
            let asset = path.hasPrefix("/ui/assets/")
            let open = asset || path == "/ui/login"
            (context.dashboardSession, setCookie) = try dashboard.resolveSession(request)
            // Pages cost by what they read: one token, ten for a filter without an index.
            // The live feed is bounded by stream slots instead (a 429 would end a page's feed).
            if let session = context.dashboardSession, !asset, path != "/ui/live", path != "/ui/login" {
                try dashboard.pageLimits.take(
                    session.key?.id ?? "open", cost: Dashboard.cost(request), what: "dashboard requests of one key")
            }
            if context.dashboardSession == nil, !open {
                if request.method == .get || request.method == .head {
                    if path == "/ui/live" {
                        throw DashboardProblem(status: .unauthorized, heading: "Signed out", detail: "sign in first")
                    }
                    let next = SafeNext.path(request.uri.description)
                    let query = next == "/ui/" ? "" : "?next=\(Self.percentEncoded(next))"
                    return Dashboard.redirect("/ui/login\(query)", cookie: setCookie)
                }
                throw DashboardProblem(
                    status: .unauthorized, heading: "Signed out",
                    detail: "your session ended, so nothing was done: sign in again, then repeat it")
            }
            response = try await next(request, context)
        } catch {
            response = dashboard.errorPage(error, request, context)
        }
        if let setCookie { response.headers.append(HTTPField(name: .setCookie, value: setCookie)) }
        return response
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "/-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/ui/"
    }
}
