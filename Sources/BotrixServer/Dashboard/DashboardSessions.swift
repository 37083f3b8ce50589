import Botrix
import Crypto
import Foundation
import JSONCoding
import Synchronization

/// One signed-in browser: the API key it signed in with (nil for an anonymous session of
/// open mode) and the token its forms carry against cross-site requests.
struct DashboardSession: Sendable {
    /// The key, as it was when the session began; whether it is still active is asked
    /// again on every request.
    var key: APIKey?
    /// Sent in every state-changing form and compared in constant time.
    var csrfToken: String
    var createdAt: ContinuousClock.Instant
    var lastSeen: ContinuousClock.Instant
    /// The session's own id in the store (the SHA-256 of its cookie), to end it.
    var handle: String

    /// Open-mode sessions may do what the open API may: everything.
    func allows(_ scope: Scope) -> Bool { key?.allows(scope) ?? true }

    /// Who the dashboard's actions are recorded as.
    var actor: String { key?.id ?? "operator" }

    /// What the nav shows.
    var who: String { key.map { "\($0.name) (\($0.id))" } ?? "open mode (no API keys)" }
}

/// The dashboard's sessions, in memory: a restart signs everyone out, which is the safe
/// direction. The cookie holds a random 256-bit token; the store keeps only its SHA-256, so
/// nothing that leaks from memory or a log can be replayed as a cookie. Sessions end after
/// `idle` without a request or `lifetime` in all. Each key may hold at most `perOwner`
/// sessions: beyond that, its least recently used one ends (an open live page counts as
/// use), so no key can push another key's sessions out, and the store stays bounded by the
/// number of keys. Open mode keeps no sessions at all (``openSession``).
final class DashboardSessions: Sendable {
    static let cookieName = "botrix_session"
    let idle: Duration
    let lifetime: Duration
    let perOwner: Int

    private struct Store {
        var sessions: [String: DashboardSession] = [:]
        /// Each owner's session handles, oldest first.
        var owners: [String: [String]] = [:]
        var startsSinceSweep = 0
    }

    private let store = Mutex(Store())

    /// What every browser is in open mode: no key, no cookie, and the form token of this
    /// server run (random; no other site can read it from a page).
    let openSession: DashboardSession

    init(idle: Duration = .seconds(8 * 3600), lifetime: Duration = .seconds(24 * 3600), perOwner: Int = 64) {
        self.idle = idle
        self.lifetime = lifetime
        self.perOwner = perOwner
        let now = ContinuousClock.now
        openSession = DashboardSession(
            key: nil, csrfToken: Self.randomToken(), createdAt: now, lastSeen: now, handle: "open")
    }

    /// Starts a session; returns the cookie value (the only place the token exists).
    func start(key: APIKey?) -> (token: String, session: DashboardSession) {
        let token = Self.randomToken()
        let now = ContinuousClock.now
        let session = DashboardSession(
            key: key, csrfToken: Self.randomToken(), createdAt: now, lastSeen: now, handle: Self.handle(token))
        let owner = key?.id ?? "open"
        store.withLock { store in
            // Expired sessions are swept every thousand starts: each start costs O(1) but that.
            store.startsSinceSweep += 1
            if store.startsSinceSweep >= 1000 {
                store.startsSinceSweep = 0
                for (handle, old) in store.sessions where expired(old, now) { Self.remove(handle, from: &store) }
            }
            // The least recently used of the key's sessions goes (at most `perOwner` to look at).
            while let handles = store.owners[owner], handles.count >= perOwner,
                let oldest = handles.min(by: {
                    (store.sessions[$0]?.lastSeen ?? now) < (store.sessions[$1]?.lastSeen ?? now)
                })
            {
                Self.remove(oldest, from: &store)
            }
            store.owners[owner, default: []].append(session.handle)
            store.sessions[session.handle] = session
        }
        return (token, session)
    }

    /// The live session for a cookie value, its last use refreshed; nil when unknown or expired.
    func session(token: String) -> DashboardSession? {
        guard token.utf8.count == 64 else { return nil }
        let handle = Self.handle(token)
        let now = ContinuousClock.now
        return store.withLock { store in
            guard var session = store.sessions[handle] else { return nil }
            guard !expired(session, now) else {
                Self.remove(handle, from: &store)
                return nil
            }
            session.lastSeen = now
            store.sessions[handle] = session
            return session
        }
    }

    /// Whether the session still exists; a live page asks every second, which counts as use.
    func isLive(_ handle: String) -> Bool {
        let now = ContinuousClock.now
        return store.withLock { store in
            guard var session = store.sessions[handle], !expired(session, now) else { return false }
            session.lastSeen = now
            store.sessions[handle] = session
            return true
        }
    }

    func end(_ handle: String) { store.withLock { Self.remove(handle, from: &$0) } }

    var count: Int { store.withLock { $0.sessions.count } }

    private static func remove(_ handle: String, from store: inout Store) {
        guard let session = store.sessions.removeValue(forKey: handle) else { return }
        let owner = session.key?.id ?? "open"
        store.owners[owner]?.removeAll { $0 == handle }
        if store.owners[owner]?.isEmpty == true { store.owners[owner] = nil }
    }

    private func expired(_ session: DashboardSession, _ now: ContinuousClock.Instant) -> Bool {
        now - session.lastSeen > idle || now - session.createdAt > lifetime
    }

    /// 32 random bytes as 64 hex digits.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return JSONText.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func handle(_ token: String) -> String { JSONText.hex(Array(SHA256.hash(data: Array(token.utf8)))) }

    /// Compares two tokens in time that does not depend on where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
