import Botrix
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A token bucket per API key (one shared bucket in open mode): `rate` tokens a second up
/// to `burst`. An empty bucket answers 429 with `Retry-After`, before anything is read or
/// appended. One instance limits writes (POST, PUT, DELETE), another reads (GET); health
/// probes and `/metrics` are never limited.
struct RateLimit: RouterMiddleware {
    typealias Context = BotrixRequestContext
    enum Kind: String, Sendable { case writes, reads }
    let kind: Kind
    let buckets: TokenBuckets
    var rate: Double { buckets.rate }
    var burst: Double { buckets.burst }

    init(kind: Kind, rate: Double, burst: Double) {
        self.kind = kind
        buckets = TokenBuckets(rate: rate, burst: burst)
    }

    func applies(to request: Request) -> Bool {
        switch kind {
        case .writes:
            // The dashboard (`/ui`) limits its own requests (DashboardLimits).
            return (request.method == .post || request.method == .put || request.method == .delete)
                && !request.uri.path.hasPrefix("/ui/")
        case .reads:
            return (request.method == .get || request.method == .head) && request.uri.path.hasPrefix("/api/")
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard applies(to: request) else { return try await next(request, context) }
        let wait = buckets.take(context.apiKey?.id ?? "open")
        guard wait == 0 else {
            throw Problem(
                status: .tooManyRequests, slug: "rate-limited", title: "Too many requests",
                detail:
                    "this key may make \(Int(rate)) \(kind.rawValue) a second (bursts of \(Int(burst))): retry after the Retry-After seconds",
                headers: [.retryAfter: String(Int(wait.rounded(.up)))])
        }
        return try await next(request, context)
    }
}

/// Counts open event streams per key so one key cannot hold every connection.
final class StreamSlots: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Takes a slot or throws 429. The slot is given back when the returned value goes
    /// away — whatever path the response takes: its body ran to the end, the client left
    /// mid-stream, or the client left before the head was written and the body never ran
    /// (a slot released only at the end of the body leaked on that path).
    ///
    /// With `channel`, the slot is also given back the moment that connection closes: a page
    /// that reloads opens its next stream before the old one's loop could notice.
    func take(_ owner: String, closingWith channel: (any Channel)? = nil) throws -> StreamSlot {
        let taken = open.withLock { open -> Bool in
            guard open[owner, default: 0] < limit else { return false }
            open[owner, default: 0] += 1
            return true
        }
        guard taken else {
            throw Problem(
                status: .tooManyRequests, slug: "too-many-streams", title: "Too many streams",
                detail: "this key already has \(limit) event streams open: close one first", headers: [.retryAfter: "5"]
            )
        }
        let slot = StreamSlot(slots: self, owner: owner)
        channel?.closeFuture.whenComplete { [weak slot] _ in slot?.release() }
        return slot
    }

    /// Slots `owner` holds now.
    func count(_ owner: String) -> Int { open.withLock { $0[owner, default: 0] } }

    fileprivate func release(_ owner: String) {
        open.withLock { open in
            open[owner, default: 1] -= 1
            if open[owner] == 0 { open[owner] = nil }
        }
    }
}

/// One taken stream slot; see ``StreamSlots/take(_:)``.
final class StreamSlot: Sendable {
    private let slots: StreamSlots
    private let owner: String
    private let released = Atomic<Bool>(false)

    fileprivate init(slots: StreamSlots, owner: String) {
        self.slots = slots
        self.owner = owner
    }

    /// Gives the slot back once, whichever comes first: the connection closing or the
    /// slot going away.
    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        slots.release(owner)
    }

    deinit { release() }
}
