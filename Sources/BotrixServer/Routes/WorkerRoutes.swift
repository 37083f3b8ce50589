import Botrix
import Foundation
import Hummingbird

/// The worker protocol: claim, then heartbeat, progress, accounts, complete or fail, each
/// naming the worker; a worker that lost its lease or whose job was cancelled gets 409.
struct WorkerRoutes: Sendable {
    let service: BotrixService
    var commands: CommandRunner { CommandRunner(service: service) }

    func register(on router: Router<BotrixRequestContext>) {
        router.post("/api/queue/claim") { request, context in
            var body = try await JSONBody.read(request, context: context)
            let worker = body.require(body.string("worker_id", maxLength: 128), "worker_id", "the worker's name")
            let lease = body.int("lease_seconds", 1...86_400)
            try body.finish()
            guard let worker else { throw Problem.validation(body.errors) }
            return try await commands.run(request, context, actor: worker, render: Self.claimed) { metadata in
                try await service.claimNext(workerID: worker, leaseSeconds: lease, metadata: metadata)
            }
        }
        router.post("/api/jobs/{id}/heartbeat") { request, context in
            let (id, worker, body) = try await workerCall(request, context)
            try body.finish()
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.heartbeat(jobID: id, workerID: worker, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/progress") { request, context in
            var (id, worker, body) = try await workerCall(request, context)
            let report = ReportProgress(
                jobID: id, workerID: worker, progress: body.int("progress"), successful: body.int("successful"),
                failed: body.int("failed"), message: body.string("message", maxLength: 1000))
            try body.finish()
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.reportProgress(report, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/accounts") { request, context in
            var (id, worker, body) = try await workerCall(request, context)
            let email = body.require(body.string("email"), "email", "the account's email address")
            let username = body.require(body.string("username"), "username", "the account's username")
            let password = body.require(body.string("password"), "password", "the account's password")
            let birthdate = body.require(body.string("birthdate"), "birthdate", "YYYY-MM-DD")
            let code = body.string("verification_code")
            let statusText = body.string("status")
            let data = body.object("account_data") ?? [:]
            var status = AccountStatus.pending
            if let statusText {
                if let parsed = AccountStatus(rawValue: statusText) {
                    status = parsed
                } else {
                    throw Problem.validation([
                        FieldError(
                            "status", "must be one of \(AccountStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    ])
                }
            }
            try body.finish()
            guard let email, let username, let password, let birthdate else { throw Problem.validation(body.errors) }
            let record = RecordAccount(
                jobID: id, workerID: worker, email: email, username: username, password: password,
                birthdate: birthdate, verificationCode: code, status: status, accountData: data)
            return try await commands.run(request, context, actor: worker, render: Self.accountCreated) {
                try await service.recordAccount(record, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/complete") { request, context in
            let (id, worker, body) = try await workerCall(request, context)
            try body.finish()
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.complete(jobID: id, workerID: worker, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/fail") { request, context in
            var (id, worker, body) = try await workerCall(request, context)
            let error = body.require(body.string("error", maxLength: 2000), "error", "what went wrong")
            let retry = body.bool("retry") ?? false
            try body.finish()
            guard let error else { throw Problem.validation(body.errors) }
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.fail(jobID: id, workerID: worker, error: error, retry: retry, metadata: $0)
            }
        }
        router.put("/api/jobs/{id}") { request, context in try await legacyUpdate(request, context) }
    }

    /// The job id, the `worker_id` every worker call carries, and the rest of the body.
    private func workerCall(_ request: Request, _ context: BotrixRequestContext) async throws -> (
        UUID, String, JSONBody
    ) {
        let id = try request.jobID(context)
        var body = try await JSONBody.read(request, context: context)
        guard let worker = body.require(body.string("worker_id", maxLength: 128), "worker_id", "the worker's name")
        else {
            var all = body.errors
            if all.isEmpty { all = [FieldError("worker_id", "is required")] }
            throw Problem.validation(all)
        }
        return (id, worker, body)
    }

    /// `PUT /api/jobs/{id}` `{progress?, status?, error_message?, worker_id?}` for workers
    /// written against the older API: it acts for the current lease holder when
    /// `worker_id` is absent, and maps `status` completed/failed to complete/fail.
    private func legacyUpdate(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let id = try request.jobID(context)
        var body = try await JSONBody.read(request, context: context)
        let progress = body.int("progress")
        let status = body.string("status")
        let error = body.string("error_message", maxLength: 2000)
        let named = body.string("worker_id", maxLength: 128)
        try body.finish()
        if let status, !["running", "completed", "failed"].contains(status) {
            throw Problem.validation([FieldError("status", "must be running, completed or failed")])
        }
        guard progress != nil || status != nil || error != nil else {
            throw Problem.validation([FieldError("body", "send at least one of progress, status, error_message")])
        }
        guard let job = try service.job(id) else { throw Problem.notFound("no job with id \(id.text)") }
        let worker = named ?? job.workerID ?? ""
        return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) { metadata in
            var current = job
            if let progress {
                current = try await service.reportProgress(
                    ReportProgress(jobID: id, workerID: worker, progress: progress), metadata: metadata)
            }
            switch status {
            case "completed": current = try await service.complete(jobID: id, workerID: worker, metadata: metadata)
            case "failed":
                current = try await service.fail(
                    jobID: id, workerID: worker, error: error ?? "failed (reported through PUT /api/jobs)",
                    retry: false,
                    metadata: metadata)
            default: break
            }
            return current
        }
    }

    @Sendable static func claimed(_ job: JobView?) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        guard let job else { return (.noContent, [], [:]) }
        var w = JSONObjectWriter()
        w.raw("job", Render.job(job))
        Render.optional(&w, "lease_expires_at", job.leaseExpiresAt)
        return (.ok, w.bytes(), [.eTag: Render.etag(job)])
    }

    @Sendable static func accountCreated(_ account: AccountView) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        (
            .created, Render.account(account),
            [.location: "/api/accounts/\(account.id)", .eTag: Render.etag(account.version)]
        )
    }
}
