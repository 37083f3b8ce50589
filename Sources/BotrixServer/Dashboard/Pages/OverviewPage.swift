import Botrix
import EventLog
import Foundation
import Hummingbird

/// `/ui/`: the queue, the jobs by status, the leases, throughput and the newest jobs, from
/// the projections' counters and two short index walks (ten leases, ten jobs).
extension Dashboard {
    func overview(_ request: Request, _ context: BotrixRequestContext) async throws -> Rendered {
        let service = self.service
        sampler.sampleIfDue(service)
        let (status, running, recent, oldest) = try await reads.run {
            (
                try service.status(), try service.jobs(limit: 10, status: .running), try service.jobs(limit: 10),
                try service.oldestPendingAge()
            )
        }
        var model = base(context, nav: "Overview", live: true)
        model["head"] = String(status.head.sequence)
        model["lag"] = String(status.lag)
        let jobs = status.jobs
        model["jobFigures"] =
            [["key": "total", "label": "Jobs", "name": "jobs.total", "value": String(jobs.total)]]
            + JobStatus.allCases.map { status -> [String: Any] in
                [
                    "key": status.rawValue, "label": status.rawValue.capitalized, "name": "jobs.\(status.rawValue)",
                    "value": String(jobs.byStatus[status] ?? 0),
                ]
            }
        let depth = jobs.queueDepthByPriority.values.reduce(0, +)
        model["queueFigures"] = [
            ["label": "Queue depth", "name": "queue.depth", "value": String(depth)],
            ["label": "Active leases", "name": "leases.active", "value": String(jobs.activeLeases)],
            ["label": "Retries waiting", "name": "retries.waiting", "value": String(jobs.retriesWaiting)],
            ["label": "Accounts", "name": "accounts.total", "value": String(status.accounts.total)],
        ]
        let byPriority = jobs.queueDepthByPriority.filter { $0.value > 0 }.sorted { $0.key > $1.key }
        model["anyDepth"] = !byPriority.isEmpty
        model["depth"] = byPriority.map { ["priority": Self.priorityName($0.key), "count": String($0.value)] }
        model["successRate"] = jobs.successRate.map(DashboardFormat.percent) ?? "—"
        model["oldestPending"] = depth == 0 ? "—" : DashboardFormat.duration(seconds: oldest)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        model["anyLeases"] = !running.items.isEmpty
        model["leases"] = running.items.map { job -> [String: Any] in
            [
                "id": job.id.text, "shortID": DashboardFormat.shortID(job.id), "worker": job.workerID ?? "—",
                "attempt": String(job.attempts),
                "left": DashboardFormat.timeLeft(until: job.leaseExpiresAt, nowMilliseconds: now),
            ]
        }
        model["activeLeases"] = String(jobs.activeLeases)
        model["moreLeases"] = jobs.activeLeases > Int64(running.items.count)
        model["charts"] = sampler.series().map { series -> [String: Any] in
            [
                "label": series.label, "now": DashboardFormat.rate(series.now),
                "peak": DashboardFormat.rate(series.peak), "points": sampler.points(series), "window": sampler.window,
                "collecting": series.rates.isEmpty,
                "every": DashboardFormat.duration(seconds: Double(sampler.every.components.seconds)),
            ]
        }
        model["window"] = sampler.window
        model["every"] = DashboardFormat.duration(seconds: Double(sampler.every.components.seconds))
        model["anyRecent"] = !recent.items.isEmpty
        model["recent"] = recent.items.map(Self.jobRow)
        model["firstJobCurl"] = firstJobCurl(request, context)
        return Rendered(template: Self.wantsFragment(request) ? "overview_live" : "overview", model: model)
    }

    /// A job as one table row.
    static func jobRow(_ job: JobView) -> [String: Any] {
        [
            "id": job.id.text, "shortID": DashboardFormat.shortID(job.id), "status": job.status.rawValue,
            "priority": priorityName(job.priority), "progress": String(job.progress), "count": String(job.count),
            "createdAt": job.createdAt,
        ]
    }

    /// "2 (high)" for the named priorities, the number otherwise.
    static func priorityName(_ priority: Int) -> String {
        guard let name = Priority.names.first(where: { $0.value == priority })?.key else { return String(priority) }
        return "\(priority) (\(name))"
    }

    /// The curl that creates a first job on this server, for empty states.
    func firstJobCurl(_ request: Request, _ context: BotrixRequestContext) -> String {
        let host = request.head.authority ?? "127.0.0.1:8080"
        let auth = context.dashboardSession?.key == nil ? "" : " -H 'Authorization: Bearer <your key>'"
        return "curl -X POST http://\(host)/api/jobs\(auth) -H 'Content-Type: application/json' -d '{\"count\": 5}'"
    }
}
