import Botrix
import EventLog
import Foundation
import Hummingbird

/// The log as the API shows it: pages of events, one stream's events, and the live feed.
struct AuditRoutes: Sendable {
    let service: BotrixService
    let streams: StreamSlots
    var log: EventLog { service.store.log }

    func register(on router: Router<BotrixRequestContext>) {
        router.get("/api/events") { request, _ in
            let after = try request.query("after", "a sequence number (0 or more)") { UInt64($0) } ?? 0
            let limit =
                try request.query("limit", "a whole number from 1 to 1000") {
                    Int($0).flatMap { (1...1000).contains($0) ? $0 : nil }
                } ?? 100
            let stream = try request.query("stream", "a stream name such as job-<uuid> or account-<id>") {
                (try? StreamName.validate($0)) != nil ? $0 : nil
            }
            let type = try request.query("type", "one of \(DomainEvent.allTypes.joined(separator: ", "))") {
                DomainEvent.allTypes.contains($0) ? $0 : nil
            }
            let (events, head) = try service.store.environment.read { txn -> ([RecordedEvent], UInt64) in
                var out: [RecordedEvent] = []
                if let stream {
                    out = try log.readStream(stream, afterVersion: 0, limit: .max, in: txn).filter {
                        $0.sequence > after && (type == nil || $0.type == type)
                    }
                    out = Array(out.prefix(limit))
                } else {
                    try log.forEach(after: after, in: txn) { event in
                        if type == nil || event.type == type { out.append(event) }
                        return out.count < limit
                    }
                }
                return (out, try log.head(in: txn).sequence)
            }
            return Render.response(.ok, Render.events(events, head: head))
        }
        router.get("/api/jobs/{id}/events") { request, context in
            let id = try request.jobID(context)
            return try streamEvents(Streams.job(id), what: "job \(id.text)")
        }
        router.get("/api/accounts/{id}/events") { request, context in
            let id = try request.accountID(context)
            return try streamEvents(Streams.account(id), what: "account \(id)")
        }
        router.get("/api/events/stream") { request, context in
            try EventStream(log: log, slots: streams).response(request, context)
        }
    }

    /// Every event of one stream; 404 when the stream has none (a deleted account keeps its events).
    private func streamEvents(_ stream: String, what: String) throws -> Response {
        let (events, head) = try service.store.environment.read { txn in
            (try log.readStream(stream, in: txn), try log.head(in: txn).sequence)
        }
        guard !events.isEmpty else { throw Problem.notFound("no \(what)") }
        return Render.response(.ok, Render.events(events, head: head))
    }
}
