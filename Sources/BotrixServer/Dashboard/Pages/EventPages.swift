import Botrix
import EventLog
import Foundation
import Hummingbird
import Synchronization

/// `/ui/events` (the log by sequence, stream and type, newest page first or from a
/// sequence, with "follow live") and `/ui/replay` (the state as of a sequence or a time,
/// folded from the log alone).
extension Dashboard {
    func eventsPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let stream = (query["stream"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let typeText = query["type"].map(String.init) ?? ""
        let afterText = query["after"].map(String.init) ?? ""
        if !stream.isEmpty, (try? StreamName.validate(stream)) == nil {
            throw DashboardProblem.badInput(
                "\"\(stream)\" is not a stream name such as job-<uuid> or account-<id>", back: "/ui/events")
        }
        if !typeText.isEmpty, !DomainEvent.allTypes.contains(typeText) {
            throw DashboardProblem.badInput("\"\(typeText)\" is not an event type", back: "/ui/events")
        }
        let explicitAfter = afterText.isEmpty ? nil : UInt64(afterText)
        if !afterText.isEmpty, explicitAfter == nil {
            throw DashboardProblem.badInput("\"\(afterText)\" is not a sequence number", back: "/ui/events")
        }
        let limit = 50
        let filter = EventFilter(stream: stream.isEmpty ? nil : stream, type: typeText.isEmpty ? nil : typeText)
        let (service, budget) = (self.service, scanBudget)
        // Without `after`, the newest page: start `limit` events before the head (a filter
        // then shows the matches among them, and "Older" pages go further back).
        let page = try await reads.run { () throws -> EventPage in
            let head = try service.head().sequence
            let after =
                explicitAfter ?? (filter.stream == nil && filter.type == nil ? head - min(head, UInt64(limit)) : 0)
            return try service.events(after: after, limit: limit, filter: filter, budget: budget)
        }
        var model = base(context, nav: "Events")
        model["head"] = String(page.head)
        model["stream"] = stream
        model["type"] = typeText
        model["after"] = afterText
        model["filtered"] = !(stream.isEmpty && typeText.isEmpty)
        model["typeOptions"] = DomainEvent.allTypes.sorted().map { ["value": $0, "selected": $0 == typeText] }
        model["events"] = page.events.reversed().map { event -> [String: Any] in
            var row: [String: Any] = [
                "seq": String(event.sequence), "type": event.type, "stream": event.stream,
                "recordedAt": Timestamp.rfc3339(milliseconds: event.recordedAt),
                "actor": event.metadata["actor"] ?? "", "requestID": event.metadata["request_id"] ?? "",
            ]
            if let link = Self.streamLink(event.stream) { row["streamLink"] = link }
            return row
        }
        let first = page.events.first?.sequence
        let last = page.events.last?.sequence
        model["summary"] =
            page.events.isEmpty
            ? "No event" : "Events \(first!) to \(last!)\(page.more ? " (more follow)" : ""), newest at the top"
        var filters: [(String, String)] = []
        if !stream.isEmpty { filters.append(("stream", stream)) }
        if !typeText.isEmpty { filters.append(("type", typeText)) }
        var links: [PagerLink] = []
        if let first, first > 1 {
            let earlier = first - 1 - min(first - 1, UInt64(limit))
            links.append(
                PagerLink(
                    href: Self.url("/ui/events", filters + [("after", String(earlier))]), label: "← Earlier",
                    rel: "prev"))
        }
        if explicitAfter != nil {
            links.append(PagerLink(href: Self.url("/ui/events", filters), label: "Newest", rel: "last"))
        }
        if page.more, let next = page.next {
            links.append(
                PagerLink(
                    href: Self.url("/ui/events", filters + [("after", String(next))]), label: "Later →", rel: "next"))
        }
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
