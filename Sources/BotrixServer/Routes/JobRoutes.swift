import Botrix
import Foundation
import Hummingbird
import JSONCoding

/// Operators' job routes: create, list, read, stats, cancel, and the queue.
struct JobRoutes: Sendable {
    let service: BotrixService
    /// Where list pages are read (off the cooperative pool).
    let reads: ReadPool
    var commands: CommandRunner { CommandRunner(service: service) }

    func register(on router: Router<BotrixRequestContext>) {
        router.post("/api/jobs") { request, context in try await create(request, context) }
        router.post("/api/accounts") { request, context in try await create(request, context) }
        router.get("/api/jobs") { request, _ in try await list(request) }
        router.get("/api/jobs/stats") { _, _ in try stats() }
        router.get("/api/jobs/{id}") { request, context in
            let id = try request.jobID(context)
            guard let job = try service.job(id) else { throw Problem.notFound("no job with id \(id.text)") }
            return Render.response(.ok, Render.job(job), headers: [.eTag: Render.etag(job)])
        }
        router.post("/api/jobs/{id}/cancel") { request, context in
            let id = try request.jobID(context)
            let expected = try request.ifMatchJob()
            var body = try await JSONBody.read(request, context: context, required: false)
            let reason = body.string("reason", maxLength: 1000)
            try body.finish()
            return try await commands.run(request, context, actor: context.operatorName, render: Self.rendered) {
                metadata in
                try await service.cancel(
                    jobID: id, expectedVersion: expected?.version, expectedProgress: expected?.progress, reason: reason,
                    metadata: metadata)
            }
        }
        router.get("/api/queue") { request, _ in
            let limit =
                try request.query("limit", "a whole number from 1 to 1000") {
                    Int($0).flatMap { (1...1000).contains($0) ? $0 : nil }
                } ?? 100
            let service = self.service
            let jobs = try await reads.run { try service.queue(limit: limit) }
            var w = JSONObjectWriter()
            w.raw("data", Render.array(jobs.map { Render.job($0) }))
            let stats = try service.jobStats()
            w.int("total", stats.queueDepthByPriority.values.reduce(0, +))
            w.int("retries_waiting", stats.retriesWaiting)
            return Render.response(.ok, w.bytes())
        }
    }

    /// `POST /api/jobs` (and `POST /api/accounts`, its older name).
    private func create(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        var body = try await JSONBody.read(request, context: context)
        let count = body.require(body.int("count"), "count", "how many accounts to produce")
        let priority = body.priority("priority") ?? 1
        let verification = body.bool("verification_enabled") ?? false
        try body.finish()
        guard let count else { throw Problem.validation(body.errors) }
        return try await commands.run(request, context, actor: context.operatorName, render: Self.created) { metadata in
            try await service.createJob(
                CreateJob(count: count, priority: priority, verificationEnabled: verification), metadata: metadata)
        }
    }

    private func list(_ request: Request) async throws -> Response {
        let (page, limit, after) = try request.pagination()
        let status = try request.query("status", "one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        {
            JobStatus(rawValue: $0)
        }
        let service = self.service
        let result = try await reads.run { try service.jobs(page: page, limit: limit, status: status, after: after) }
        return Render.response(.ok, Render.list(result) { Render.job($0) })
    }

    private func stats() throws -> Response {
        let stats = try service.jobStats()
        var w = JSONObjectWriter()
        w.int("total", stats.total)
        var byStatus = JSONObjectWriter()
        for (status, count) in stats.byStatus { byStatus.int(status.rawValue, count) }
        w.raw("by_status", byStatus.bytes())
        var depth = JSONObjectWriter()
        for (priority, count) in stats.queueDepthByPriority { depth.int(String(priority), count) }
        w.raw("queue_depth_by_priority", depth.bytes())
        w.int("queue_depth", stats.queueDepthByPriority.values.reduce(0, +))
        w.int("active_leases", stats.activeLeases)
        w.int("retries_waiting", stats.retriesWaiting)
        if let rate = stats.successRate {
            w.raw("success_rate", JSONWriting.fixed(rate, decimals: 4))
        } else {
            w.null("success_rate")
        }
        return Render.response(.ok, w.bytes())
    }

    @Sendable static func rendered(_ job: JobView) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        (.ok, Render.job(job), [.eTag: Render.etag(job)])
    }

    @Sendable static func created(_ job: JobView) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        var w = JSONObjectWriter()
        w.string("job_id", job.id.text)
        w.string("status", job.status.rawValue)
        w.int("count", job.count)
        w.string("message", "job created: \(job.count) account\(job.count == 1 ? "" : "s") at priority \(job.priority)")
        return (.created, w.bytes(), [.location: "/api/jobs/\(job.id.text)", .eTag: Render.etag(job)])
    }
}
