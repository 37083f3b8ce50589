public import Botrix
import Synchronization

/// Decides, request by request, whether the API is open (no key needed). It is open only
/// in development and only while the key table is empty: the first `botrix keys create`
/// closes it on a running server with the next request. Revoking every key does not reopen
/// it (revoked keys stay in the table), so an API that ever had keys stays closed.
public final class AccessPolicy: Sendable {
    public let keys: APIKeyStore
    private let development: Bool
    /// Set once a key was seen; from then on no lookup is needed.
    private let closed: Atomic<Bool>

    public init(keys: APIKeyStore, development: Bool) {
        self.keys = keys
        self.development = development
        closed = Atomic(!development)
    }

    /// True while no key exists and the server runs in development. A failing read of the
    /// key table counts as closed: an error must never open the API.
    public var isOpen: Bool {
        if closed.load(ordering: .acquiring) { return false }
        guard let hasKeys = try? keys.hasKeys(), !hasKeys else {
            closed.store(true, ordering: .releasing)
            return false
        }
        return true
    }

    /// Whether a long-lived request (an event stream, a waiting claim) may still act for
    /// its caller: its key is still active, or, for a request made while the API was
    /// open, the API still is (the first key created ends anonymous ones). A failed key
    /// lookup keeps the request: a storage hiccup should not drop every client.
    public func stillValid(keyID: String?, openAccess: Bool) -> @Sendable () -> Bool {
        if let keyID { return { [keys] in (try? keys.isActive(id: keyID)) ?? true } }
        guard openAccess else { return { true } }
        return { [self] in isOpen }
    }

    /// Whether a write whose body has just arrived may still act for its caller. Unlike
    /// ``stillValid(keyID:openAccess:)`` it fails closed: a failed key lookup is thrown (the
    /// request gets the storage error's answer), never taken for a yes — a write must not
    /// slip past a revocation because the key table could not be read.
    public func stillAuthorized(keyID: String?, openAccess: Bool) -> @Sendable () throws -> Bool {
        if let keyID { return { [keys] in try keys.isActive(id: keyID) } }
        guard openAccess else { return { true } }
        return { [self] in isOpen }
    }
}
