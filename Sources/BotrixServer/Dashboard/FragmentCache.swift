import Botrix
import Hummingbird
import Synchronization

/// A page as its handler built it: the template and the model, rendered by ``Dashboard/live(_:_:_:)``.
struct Rendered {
    var template: String
    var model: [String: Any]
    var status: HTTPResponse.Status = .ok
}

/// The live regions (`?fragment=1`) rendered in the last second, by address and by what
/// differs between sessions (the operate scope, signed in or open). Every open page fetches
/// its region when the log head moves, so twenty pages of the overview would build the same
/// region twenty times a second; with this they build it once. An entry is good while the
/// head is the one it was built at and for at most a second (times left and ages move on).
final class FragmentCache: Sendable {
    private struct Entry {
        var head: UInt64
        var at: ContinuousClock.Instant
        var html: String
    }

    let capacity: Int
    let lifetime: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int = 256, lifetime: Duration = .seconds(1)) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    func html(_ key: String, head: UInt64) -> String? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[key], entry.head == head, now - entry.at < lifetime else { return nil }
            return entry.html
        }
    }

    func store(_ key: String, head: UInt64, _ html: String) {
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count >= capacity { entries = entries.filter { now - $0.value.at < lifetime } }
            if entries.count >= capacity { entries.removeAll() }
            entries[key] = Entry(head: head, at: now, html: html)
        }
    }
}

extension Dashboard {
    /// A page with a live region: whole pages are built and rendered each time; a region
    /// (`?fragment=1`) comes from ``FragmentCache`` when another page asked for the same one
    /// at the same head within the last second.
    func live(
        _ request: Request, _ context: BotrixRequestContext,
        _ page: (Request, BotrixRequestContext) async throws -> Rendered
    ) async throws -> Response {
        guard Self.wantsFragment(request) else {
            let rendered = try await page(request, context)
            return renderer.page(rendered.template, rendered.model, status: rendered.status)
        }
        let session = context.dashboardSession
        let key =
            "\(request.uri.description) \(session?.allows(.operate) == true) \(session?.key == nil) \(request.head.authority ?? "")"
        let head = try service.head().sequence
        if let html = fragments.html(key, head: head) { return renderer.response(html) }
        let rendered = try await page(request, context)
        let html = renderer.render(rendered.template, rendered.model)
        // Built at `head` or later: stored under the head read before, so it is never served
        // as fresher than it is.
        if rendered.status == .ok { fragments.store(key, head: head, html) }
        return renderer.response(html, status: rendered.status)
    }
}
