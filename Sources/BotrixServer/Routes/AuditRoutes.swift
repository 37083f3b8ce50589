import Botrix
import EventLog
import Foundation
import Hummingbird

/// The log as the API shows it: pages of events, one job's or account's events, and the
/// live feed. Every page is bounded: at most `limit` events and `scanBudget` entries
/// examined per request, with `next_after` saying where the next request goes on.
struct AuditRoutes: Sendable {
    let service: BotrixService
    /// Where log pages are read (off the cooperative pool).
    let reads: ReadPool
    let scanBudget: Int
    let streams: StreamSlots
    let access: AccessPolicy

    func register(on router: Router<BotrixRequestContext>) {
        router.get("/api/events") { request, _ in
            let (after, limit) = try Self.window(request)
            let stream = try request.query("stream", "a stream name such as job-<uuid> or account-<id>") {
                (try? StreamName.validate($0)) != nil ? $0 : nil
            }
            let type = try request.query("type", "one of \(DomainEvent.allTypes.joined(separator: ", "))") {
                DomainEvent.allTypes.contains($0) ? $0 : nil
            }
            let (service, budget) = (self.service, scanBudget)
            let page = try await reads.run {
                try service.events(
                    after: after, limit: limit, filter: EventFilter(stream: stream, type: type), budget: budget)
            }
            return Render.response(.ok, Render.events(page))
        }
        router.get("/api/jobs/{id}/events") { request, context in
            let id = try request.jobID(context)
            return try await streamEvents(request, Streams.job(id), what: "job \(id.text)")
        }
        router.get("/api/accounts/{id}/events") { request, context in
            let id = try request.accountID(context)
            return try await streamEvents(request, Streams.account(id), what: "account \(id)")
        }
        router.get("/api/events/stream") { request, context in
            try EventStream(service: service, slots: streams, reads: reads, keyStillValid: stillValid(context))
                .response(request, context)
        }
    }

    /// Whether the stream may go on (see ``AccessPolicy/stillValid(keyID:openAccess:)``);
    /// nil when there is nothing to check.
    private func stillValid(_ context: BotrixRequestContext) -> (@Sendable () -> Bool)? {
        guard context.apiKey != nil || context.openAccess else { return nil }
        return access.stillValid(keyID: context.apiKey?.id, openAccess: context.openAccess)
    }

    /// `after` (a sequence, default 0) and `limit` (1...1000, default 100).
    static func window(_ request: Request) throws -> (after: UInt64, limit: Int) {
        let after = try request.query("after", "a sequence number (0 or more)") { UInt64($0) } ?? 0
        let limit =
            try request.query("limit", "a whole number from 1 to 1000") {
                Int($0).flatMap { (1...1000).contains($0) ? $0 : nil }
            } ?? 100
        return (after, limit)
    }

    /// A page of one stream's events; 404 when the stream has none at all (a deleted
    /// account keeps its events).
    private func streamEvents(_ request: Request, _ stream: String, what: String) async throws -> Response {
        let (after, limit) = try Self.window(request)
        let (service, budget) = (self.service, scanBudget)
        let page = try await reads.run {
            try service.events(after: after, limit: limit, filter: EventFilter(stream: stream), budget: budget)
        }
        if page.events.isEmpty, after == 0 { throw Problem.notFound("no \(what)") }
        return Render.response(.ok, Render.events(page))
    }
}
