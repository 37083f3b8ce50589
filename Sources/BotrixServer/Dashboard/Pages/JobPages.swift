import Botrix
import EventLog
import Foundation
import Hummingbird

/// `/ui/jobs`, a job's page, and cancelling from it (a confirmation page, then a POST that
/// carries the ETag shown, so a job that changed meanwhile is not cancelled blind).
extension Dashboard {
    func jobsPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Rendered {
        let query = request.uri.queryParameters
        let statusText = query["status"].map(String.init) ?? ""
        let priorityText = query["priority"].map(String.init) ?? ""
        let status = statusText.isEmpty ? nil : JobStatus(rawValue: statusText)
        let priority = priorityText.isEmpty ? nil : Int(priorityText).flatMap { Priority.range.contains($0) ? $0 : nil }
        if !statusText.isEmpty, status == nil {
            throw DashboardProblem.badInput("\"\(statusText)\" is not a job status", back: "/ui/jobs")
        }
        if !priorityText.isEmpty, priority == nil {
            throw DashboardProblem.badInput("the priority must be a whole number from 0 to 10", back: "/ui/jobs")
        }
        let after = try Self.cursor(request, back: "/ui/jobs")
        let service = self.service
        let page = try await reads.run {
            if let priority {
                // A filter the indexes do not serve: at most `priorityScan` entries a request.
                return try service.jobs(
                    priority: priority, limit: 25, status: status, after: after, skipLimit: Self.priorityScan)
            }
            return try service.jobs(limit: 25, status: status, after: after)
        }
        var model = base(context, nav: "Jobs", live: true)
        var filters: [(String, String)] = []
        if let status { filters.append(("status", status.rawValue)) }
        if let priority { filters.append(("priority", String(priority))) }
        model["filtered"] = !filters.isEmpty
        model["statusOptions"] = JobStatus.allCases.map { ["value": $0.rawValue, "selected": $0 == status] }
        model["priorityOptions"] = Priority.range.reversed().map {
            ["value": String($0), "label": Self.priorityName($0), "selected": $0 == priority]
        }
        model["anyJobs"] = !page.items.isEmpty
        model["jobs"] = page.items.map(Self.jobRow)
        let total = "\(page.total)\(page.totalIsLowerBound ? "+" : "")"
        model["summary"] =
            "\(total) job\(page.total == 1 && !page.totalIsLowerBound ? "" : "s")\(filters.isEmpty ? "" : " match")\(page.totalIsLowerBound ? " among the newest \(Self.priorityScan) (the count looks no further)" : ""), newest first"
        if page.items.isEmpty, page.next != nil {
            model["searchedOnly"] = "No match among the \(Self.priorityScan) jobs looked at; older jobs may match."
        }
        model["pager"] = Self.pager("/ui/jobs", filters, after: after, next: page.next)
        model["refreshURL"] = Self.url(
            "/ui/jobs", filters + [("fragment", "1")] + (after.map { [("after", String($0))] } ?? []))
        model["firstJobCurl"] = firstJobCurl(request, context)
        return Rendered(template: Self.wantsFragment(request) ? "jobs_live" : "jobs", model: model)
    }

    /// Index entries a priority filter examines per request.
    static let priorityScan = 2000

    func jobPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Rendered {
        let id = try Self.jobID(context)
        let (service, budget) = (self.service, scanBudget)
        let (job, accounts, events) = try await reads.run {
            (
                try service.job(id), try service.accounts(limit: 20, jobID: id),
                try service.events(after: 0, limit: 200, filter: EventFilter(stream: Streams.job(id)), budget: budget)
            )
        }
        guard let job else { throw DashboardProblem.notFound("no job with id \(id.text)", back: "/ui/jobs") }
        var model = base(context, nav: "Jobs", live: true)
        model["job"] = jobModel(job)
        model["anyAccounts"] = !accounts.items.isEmpty
        model["accounts"] = accounts.items.map(Self.accountRow)
        model["moreAccounts"] = accounts.total > accounts.items.count
        model["accountsSummary"] =
            accounts.total > accounts.items.count
            ? "newest \(accounts.items.count) of \(accounts.total)" : "\(accounts.total)"
        model["events"] = events.events.map(Self.timelineEntry)
        if events.more, let next = events.next { model["moreEvents"] = String(next) }
        // Only true words: a link cannot make a pending job's page say it was cancelled.
        if request.uri.queryParameters["cancelled"] == "1", job.status == .cancelled {
            model["flashOK"] = "The job was cancelled."
        }
        return Rendered(template: Self.wantsFragment(request) ? "job_live" : "job", model: model)
    }

    func cancelPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        try requireOperate(context)
        guard let job = try service.job(id) else {
            throw DashboardProblem.notFound("no job with id \(id.text)", back: "/ui/jobs")
        }
        guard !job.status.isFinished else {
            throw DashboardProblem(
                status: .conflict, heading: "Already finished",
                detail: "the job is \(job.status.rawValue): there is nothing to cancel", back: "/ui/jobs/\(id.text)")
        }
        var model = base(context, nav: "Jobs")
        model["job"] = jobModel(job)
        return renderer.page("cancel", model)
    }

    func cancel(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let id = try Self.jobID(context)
        let (form, session) = try await checkedForm(request, context)
        try requireOperate(context)
        let back = "/ui/jobs/\(id.text)"
        let etag = (form["etag"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        let parts = etag.split(separator: "-")
        guard parts.count == 2, let version = UInt64(parts[0]), let progress = Int(parts[1]) else {
            throw DashboardProblem.badInput(
                "the form lacks the job's ETag: open the job page and cancel from it", back: back)
        }
        let reason = form["reason"].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        if let reason, reason.utf8.count > 1000 {
            throw DashboardProblem.badInput(
                "the reason is longer than 1000 bytes of UTF-8 (the API's limit)", back: back)
        }
        do {
            _ = try await service.cancel(
                jobID: id, expectedVersion: version, expectedProgress: progress, reason: reason,
                metadata: CommandMetadata(requestID: context.requestID, actor: session.actor, apiKey: session.key?.id))
        } catch let error as DomainError {
            switch error {
            case .preconditionFailed:
                throw DashboardProblem(
                    status: .preconditionFailed, heading: "The job changed",
                    detail:
                        "the job changed since the page you confirmed on was loaded, so nothing was cancelled: look at it again and confirm if you still want to",
                    back: "\(back)/cancel")
            case .notFound:
                throw DashboardProblem.notFound("no job with id \(id.text)", back: "/ui/jobs")
            default:
                let problem = DashboardProblem(error)
                throw DashboardProblem(
                    status: problem.status, heading: problem.heading, detail: problem.detail, back: back)
            }
        }
        return Self.redirect("\(back)?cancelled=1")
    }

    private func requireOperate(_ context: BotrixRequestContext) throws {
        guard let session = context.dashboardSession, session.allows(.operate) else {
            throw DashboardProblem.missingScope(.operate, key: context.dashboardSession?.key?.id ?? "in use")
        }
    }

    private func jobModel(_ job: JobView) -> [String: Any] {
        var model = Self.jobRow(job)
        model["successful"] = String(job.successful)
        model["failed"] = String(job.failed)
        model["accountsRecorded"] = String(job.accountsRecorded)
        model["verification"] = job.verificationEnabled ? "on" : "off"
        model["attempts"] = String(job.attempts)
        model["updatedAt"] = job.updatedAt
        model["etag"] = "\(job.version)-\(job.accountsRecorded)"
        model["cancellable"] = !job.status.isFinished
        if let value = job.startedAt { model["startedAt"] = value }
        if let value = job.completedAt { model["completedAt"] = value }
        if let value = job.availableAt, job.status == .pending { model["availableAt"] = value }
        if let value = job.message { model["message"] = value }
        if let value = job.errorMessage { model["errorMessage"] = value }
        // Each worker once, where it last held the job, so the current holder comes last (the
        // list names it twice when it held an earlier attempt; see JobView.boundedHolders).
        var named = Set<String>()
        let holders = Array(job.holders.reversed().filter { named.insert($0).inserted }.reversed())
        if !holders.isEmpty { model["holders"] = holders.joined(separator: ", ") }
        if job.status == .running, let worker = job.workerID {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var lease: [String: Any] = [
                "worker": worker, "attempt": String(job.attempts), "expiresAt": job.leaseExpiresAt ?? "",
                "left": DashboardFormat.timeLeft(until: job.leaseExpiresAt, nowMilliseconds: now),
            ]
            if let key = job.claimKey { lease["key"] = key }
            model["lease"] = lease
        }
        return model
    }

    static func jobID(_ context: BotrixRequestContext) throws -> UUID {
        let text = context.parameters.get("id") ?? ""
        guard let id = UUID(text: text) else {
            throw DashboardProblem.notFound("\"\(text)\" is not a job id (a UUID)", back: "/ui/jobs")
        }
        return id
    }

    /// `?after=` of a list: the cursor its "Older" link carries.
    static func cursor(_ request: Request, back: String) throws -> UInt64? {
        guard let text = request.uri.queryParameters["after"].map(String.init), !text.isEmpty else { return nil }
        guard let value = UInt64(text), value > 0 else {
            throw DashboardProblem.badInput("\"\(text)\" is not a page cursor", back: back)
        }
        return value
    }

    /// "Newest" and "Older" links; nil when there is a single page.
    static func pager(_ path: String, _ filters: [(String, String)], after: UInt64?, next: UInt64?) -> [String: Any]? {
        var links: [PagerLink] = []
        if after != nil { links.append(PagerLink(href: url(path, filters), label: "Newest", rel: "first")) }
        if let next {
            links.append(PagerLink(href: url(path, filters + [("after", String(next))]), label: "Older →", rel: "next"))
        }
        return pagerModel(links)
    }

    struct PagerLink {
        var href: String
        var label: String
        var rel: String
    }

    static func pagerModel(_ links: [PagerLink]) -> [String: Any]? {
        guard !links.isEmpty else { return nil }
        return ["links": links.map { ["href": $0.href, "label": $0.label, "rel": $0.rel] }]
    }

    static func url(_ path: String, _ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { "\($0.0)=\(DashboardGate.percentEncoded($0.1))" }.joined(separator: "&")
    }

    /// One event of a timeline: its type, place, time, request id and other metadata, and
    /// its data without secret fields.
    static func timelineEntry(_ event: RecordedEvent) -> [String: Any] {
        var entry: [String: Any] = [
            "seq": String(event.sequence), "type": event.type, "version": String(event.version),
            "recordedAt": Timestamp.rfc3339(milliseconds: event.recordedAt),
            "requestID": event.metadata["request_id"] ?? "—",
            "metadata": event.metadata.filter { $0.key != "request_id" }.sorted { $0.key < $1.key }.map {
                ["name": $0.key, "value": $0.value]
            },
        ]
        if let data = DashboardFormat.data(event.data) { entry["data"] = data }
        return entry
    }
}
