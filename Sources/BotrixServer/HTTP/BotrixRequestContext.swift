public import Botrix
public import Hummingbird
import NIOCore
import Synchronization

/// The request context of every route: limits bodies to 256 KiB (413 beyond) and
/// carries the request id that is echoed, logged and stored in event metadata.
public struct BotrixRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// `X-Request-ID` as received (when acceptable) or generated.
    public var requestID: String = ""
    /// The API key that authenticated the request (nil in open mode and on open routes).
    public var apiKey: APIKey?
    /// How long the body may take to arrive whole (set from BODY_TIMEOUT_SECONDS).
    public var bodyTimeout: Duration = .seconds(30)
    /// True when the request was let in without a key (development, no key created yet).
    public var openAccess = false
    /// Asks again whether the caller may still act (its key still active, or the API still
    /// open): authentication happens at the headers, and a body may take BODY_TIMEOUT_SECONDS
    /// to arrive. Nil on open routes. See ``checkStillAuthorized()``.
    var stillAuthorized: (@Sendable () throws -> Bool)?
    /// The dashboard session of a `/ui` request, set by ``DashboardGate``.
    var dashboardSession: DashboardSession?
    /// Who an operator action is recorded as: the API key's id, or "operator" in open mode.
    var operatorName: String { apiKey?.id ?? "operator" }
    /// What the handler learnt about the request body while reading it (shared by the
    /// copies of this context the middleware make).
    let body = BodyRecord()

    /// The connection: a long-poll claim stops waiting when it closes.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// 401 when the caller's key was revoked (or, for a request let in while the API was
    /// open, a first key was created) since the headers were authenticated; a failed key
    /// lookup is thrown as it is. Called once a body is in, before it is even parsed.
    func checkStillAuthorized() throws {
        guard let stillAuthorized, try !stillAuthorized() else { return }
        throw AuthMiddleware.unauthorized(
            apiKey.map { "the key \($0.id) was revoked while the request was arriving; nothing was done" }
                ?? "an API key was created while the request was arriving: send Authorization: Bearer <key>")
    }

    /// Bodies larger than this get 413 before they are read whole.
    public var maxUploadSize: Int { 256 * 1024 }
}

/// The fingerprint of the request body, set by ``JSONBody/read(_:context:required:)``; a
/// command keeps it with its idempotent answer so a retry with another body is refused.
final class BodyRecord: Sendable {
    private let digest = Mutex<[UInt8]?>(nil)

    /// SHA-256 of the body's JSON written canonically (sorted keys, no spacing); of an
    /// empty body when the handler read none or the body was empty.
    var fingerprint: [UInt8] { digest.withLock { $0 } ?? CommandMetadata.Replay.fingerprint([]) }

    func read(_ bytes: [UInt8]) { digest.withLock { $0 = CommandMetadata.Replay.fingerprint(bytes) } }
}
