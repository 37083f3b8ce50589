import Botrix
import EventLog
import Foundation
import Hummingbird
import Synchronization

/// `/ui/events` (the log by sequence, stream and type, newest page first or from a
/// sequence, with "follow live") and `/ui/replay` (the state as of a sequence or a time,
/// folded from the log alone).
extension Dashboard {
    /// Events a type-filtered page reads at most (the type has no index).
    static let typeWindow = 2000

    /// Three ways through the log. By default the newest events (of one type, when asked)
    /// at or below `before` (the head), with "Earlier" going on below the oldest shown; with
    /// `after` the events after a sequence, oldest first; with a stream, that stream's events
    /// from its first (or after `after`). Pages never skip or repeat an event.
    func eventsPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let stream = (query["stream"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let typeText = query["type"].map(String.init) ?? ""
        let afterText = query["after"].map(String.init) ?? ""
        let beforeText = query["before"].map(String.init) ?? ""
        if !stream.isEmpty, (try? StreamName.validate(stream)) == nil {
            throw DashboardProblem.badInput(
                "\"\(stream)\" is not a stream name such as job-<uuid> or account-<id>", back: "/ui/events")
        }
        if !typeText.isEmpty, !DomainEvent.allTypes.contains(typeText) {
            throw DashboardProblem.badInput("\"\(typeText)\" is not an event type", back: "/ui/events")
        }
        let after = afterText.isEmpty ? nil : UInt64(afterText)
        let before = beforeText.isEmpty ? nil : UInt64(beforeText)
        if (!afterText.isEmpty && after == nil) || (!beforeText.isEmpty && before == nil) {
            throw DashboardProblem.badInput("after and before take a sequence number", back: "/ui/events")
        }
        let limit = 50
        let type = typeText.isEmpty ? nil : typeText
        let (service, budget) = (self.service, scanBudget)
        var filters: [(String, String)] = []
        if !stream.isEmpty { filters.append(("stream", stream)) }
        if let type { filters.append(("type", type)) }
        var links: [PagerLink] = []
        let events: [RecordedEvent]
        let head: UInt64
        let summary: String
        if stream.isEmpty, after == nil {
            // Newest first: a window of the log read forward, its newest matches kept.
            let page = try await reads.run {
                try service.newestEvents(
                    through: before, limit: limit, type: type,
                    window: type == nil ? limit : min(budget, Self.typeWindow))
            }
            (events, head) = (page.events, page.head)
            if let earlier = page.earlier {
                links.append(
                    PagerLink(
                        href: Self.url("/ui/events", filters + [("before", String(earlier))]), label: "← Earlier",
                        rel: "prev"))
            }
            if let before, before < page.head {
                links.append(PagerLink(href: Self.url("/ui/events", filters), label: "Newest", rel: "last"))
            }
            let end = min(before ?? page.head, page.head)
            summary =
                events.isEmpty
                ? (page.head == 0
                    ? "No event"
                    : "No \(type.map { "\($0) event" } ?? "event") among events \(page.earlier.map { $0 + 1 } ?? 1) to \(end)")
                : "The newest \(events.count) \(type.map { "\($0) event" } ?? "event")\(events.count == 1 ? "" : "s") up to event \(end), newest at the top"
        } else {
            let filter = EventFilter(stream: stream.isEmpty ? nil : stream, type: type)
            let page = try await reads.run {
                try service.events(after: after ?? 0, limit: limit, filter: filter, budget: budget)
            }
            (events, head) = (page.events, page.head)
            if after != nil {
                links.append(
                    PagerLink(
                        href: Self.url("/ui/events", filters), label: stream.isEmpty ? "Newest" : "From the start",
                        rel: "first"))
            }
            if page.more, let next = page.next {
                links.append(
                    PagerLink(
                        href: Self.url("/ui/events", filters + [("after", String(next))]), label: "Later →", rel: "next"
                    ))
            }
            summary =
                events.isEmpty
                ? "No event \(after.map { "after \($0)" } ?? "in this stream")\(page.more ? " among those read (Later goes on)" : "")"
                : "Events \(events.first!.sequence) to \(events.last!.sequence)\(page.more ? " (more follow)" : ""), newest at the top"
        }
        var model = base(context, nav: "Events")
        model["head"] = String(head)
        model["stream"] = stream
        model["type"] = typeText
        model["after"] = afterText
        model["filtered"] = !(stream.isEmpty && typeText.isEmpty)
        model["typeOptions"] = DomainEvent.allTypes.sorted().map { ["value": $0, "selected": $0 == typeText] }
        model["events"] = events.reversed().map { event -> [String: Any] in
            var row: [String: Any] = [
                "seq": String(event.sequence), "type": event.type, "stream": event.stream,
                "recordedAt": Timestamp.rfc3339(milliseconds: event.recordedAt),
                "actor": event.metadata["actor"] ?? "", "requestID": event.metadata["request_id"] ?? "",
            ]
            if let link = Self.streamLink(event.stream) { row["streamLink"] = link }
            return row
        }
        model["summary"] = summary
        if let pager = Self.pagerModel(links) { model["pager"] = pager }
        return renderer.page("events", model)
    }

    /// The page of a stream's job or account.
    static func streamLink(_ stream: String) -> String? {
        if stream.hasPrefix("job-") { return "/ui/jobs/\(stream.dropFirst(4))" }
        if stream.hasPrefix("account-") { return "/ui/accounts/\(stream.dropFirst(8))" }
        return nil
    }

    func replayPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let seqText = (query["seq"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let atText = (query["at"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let cut: ReplayCut
        let label: String
        if !atText.isEmpty {
            guard let milliseconds = Timestamp.parse(atText) else {
                throw DashboardProblem.badInput(
                    "\"\(atText)\" is not a time such as 2026-11-27T10:00:00Z", back: "/ui/replay")
            }
            cut = .time(milliseconds)
            label = atText
        } else if !seqText.isEmpty {
            guard let sequence = UInt64(seqText) else {
                throw DashboardProblem.badInput("\"\(seqText)\" is not a sequence number", back: "/ui/replay")
            }
            cut = .sequence(sequence)
            label = "event \(sequence)"
        } else {
            let head = try service.head().sequence
            cut = .sequence(head)
            label = "event \(head) (the head)"
        }
        let (service, budget) = (self.service, replayBudget)
        let state: ReplayState
        guard replays.enter() else {
            throw DashboardProblem(
                status: .tooManyRequests, heading: "A replay is running",
                detail:
                    "another replay is being folded right now (one at a time, so the API's reads keep their threads): try again in a few seconds",
                back: "/ui/events")
        }
        defer { replays.leave() }
        do {
            state = try await reads.run { try service.replay(upTo: cut, budget: budget) }
        } catch let tooLong as ReplayTooLong {
            throw DashboardProblem(
                status: .unprocessableContent, heading: "Too far to replay here", detail: tooLong.description,
                back: "/ui/events")
        }
        var model = base(context, nav: "Events")
        model["label"] = label
        model["seqInput"] = seqText
        model["atInput"] = atText
        model["sequence"] = String(state.sequence)
        if state.recordedAt > 0 { model["recordedAt"] = Timestamp.rfc3339(milliseconds: state.recordedAt) }
        model["jobsTotal"] = String(state.jobs.count)
        model["accountsTotal"] = String(state.accounts.count)
        model["jobsByStatus"] = JobStatus.allCases.map { status in
            ["status": status.rawValue, "count": String(state.jobs.values.count { $0.status == status })]
        }
        model["accountsByStatus"] = AccountStatus.allCases.map { status in
            ["status": status.rawValue, "count": String(state.accounts.values.count { $0.status == status })]
        }
        let newest = state.jobs.values.sorted { $0.createdSequence > $1.createdSequence }.prefix(20)
        model["anyJobs"] = !newest.isEmpty
        model["jobs"] = newest.map(Self.jobRow)
        return renderer.page("replay", model)
    }
}

/// Admits one replay at a time.
final class ReplaySlot: Sendable {
    private let busy = Atomic<Bool>(false)

    func enter() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    func leave() { busy.store(false, ordering: .releasing) }
}
