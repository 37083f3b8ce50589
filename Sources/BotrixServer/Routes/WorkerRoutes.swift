import Botrix
import Foundation
import Hummingbird
import JSONCoding
import NIOCore
import ServiceLifecycle
import Synchronization

/// The worker protocol: claim (answered with the attempt's `claim_token`), then heartbeat,
/// progress, accounts, complete, fail or release, each naming the worker and sending the
/// token; a call of an earlier attempt, of another worker or key, or on a cancelled job
/// gets 409 and changes nothing. Heartbeat answers carry an `instruction`.
struct WorkerRoutes: Sendable {
    let service: BotrixService
    /// Where claim wait times go.
    let metrics: ServerMetrics
    /// Whether a waiting claim's key is still good when a job arrives for it.
    let access: AccessPolicy
    /// Tells a waiting claim that its client left.
    var closures = ConnectionClosures()
    var commands: CommandRunner { CommandRunner(service: service) }

    func register(on router: Router<BotrixRequestContext>) {
        router.post("/api/queue/claim") { request, context in try await claim(request, context) }
        router.post("/api/jobs/{id}/heartbeat") { request, context in
            var (id, worker, token, body) = try await workerCall(request, context)
            let lease = body.int("lease_seconds", 1...86_400)
            try body.finish()
            // Every request runs under the HTTP server's task, so it sees the server stop.
            let stopping = Task.isShuttingDownGracefully
            return try await commands.run(request, context, actor: worker, render: { Self.beat($0, stopping) }) {
                try await service.heartbeat(
                    jobID: id, workerID: worker, claimToken: token, leaseSeconds: lease, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/release") { request, context in
            var (id, worker, token, body) = try await workerCall(request, context)
            let reason = body.string("reason", maxLength: 1000)
            try body.finish()
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.release(jobID: id, workerID: worker, claimToken: token, reason: reason, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/progress") { request, context in
            var (id, worker, token, body) = try await workerCall(request, context)
            let report = ReportProgress(
                jobID: id, workerID: worker, progress: body.int("progress"), successful: body.int("successful"),
                failed: body.int("failed"), message: body.string("message", maxLength: 1000), claimToken: token)
            try body.finish()
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.reportProgress(report, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/accounts") { request, context in
            var (id, worker, token, body) = try await workerCall(request, context)
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
                birthdate: birthdate, verificationCode: code, status: status, accountData: data, claimToken: token)
            return try await commands.run(request, context, actor: worker, render: Self.accountCreated) {
                try await service.recordAccount(record, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/complete") { request, context in
            let (id, worker, token, body) = try await workerCall(request, context)
            try body.finish()
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.complete(jobID: id, workerID: worker, claimToken: token, metadata: $0)
            }
        }
        router.post("/api/jobs/{id}/fail") { request, context in
            var (id, worker, token, body) = try await workerCall(request, context)
            let error = body.require(body.string("error", maxLength: 2000), "error", "what went wrong")
            let retry = body.bool("retry") ?? false
            try body.finish()
            guard let error else { throw Problem.validation(body.errors) }
            return try await commands.run(request, context, actor: worker, render: JobRoutes.rendered) {
                try await service.fail(
                    jobID: id, workerID: worker, claimToken: token, error: error, retry: retry, metadata: $0)
            }
        }
        router.put("/api/jobs/{id}") { request, context in try await legacyUpdate(request, context) }
    }

    /// `POST /api/queue/claim` `{worker_id, lease_seconds?, wait_seconds?, max_jobs?}`: one
    /// job (or, with `max_jobs`, a list), waiting up to `wait_seconds` when none is ready.
    private func claim(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        var body = try await JSONBody.read(request, context: context)
        let worker = body.require(body.string("worker_id", maxLength: 128), "worker_id", "the worker's name")
        let lease = body.int("lease_seconds", 1...86_400)
        let wait = body.int("wait_seconds", 0...30) ?? 0
        let maxJobs = body.int("max_jobs", 1...32)
        try body.finish()
        guard let worker else { throw Problem.validation(body.errors) }
        let render: @Sendable ([ClaimedJob]) -> (HTTPResponse.Status, [UInt8], HTTPFields)
        if maxJobs == nil {
            render = { claims in Self.claimed(claims.first) }
        } else {
            render = Self.claimedMany
        }
        let owner = context.apiKey?.id ?? "open"
        let service = self.service
        let metrics = self.metrics
        let channel = context.channel
        let logger = context.logger
        let closures = self.closures
        let allowed = access.stillValid(keyID: context.apiKey?.id, openAccess: context.openAccess)
        let registration = Registration()
        // The claim is over (answered, timed out, failed): its client leaving means nothing now.
        defer { if let token = registration.token.withLock({ $0 }) { closures.remove(token, from: channel) } }
        return try await commands.run(request, context, actor: worker, render: render) { metadata in
            let started = ContinuousClock.now
            // A shutdown answers every waiting claim at once; a client that hangs up stops waiting.
            let claims = try await withGracefulShutdownHandler {
                try await service.claim(
                    workerID: worker, leaseSeconds: lease, maxJobs: maxJobs ?? 1, wait: .seconds(wait), owner: owner,
                    metadata: metadata, allowed: allowed
                ) { gone in registration.token.withLock { $0 = closures.register(on: channel, gone) } }
            } onGracefulShutdown: {
                // Runs at once if the server was already stopping when this claim came in.
                let answered = service.claimWaiters.stop()
                if answered > 0 { logger.info("stopping: answered \(answered) waiting claim(s) with no job") }
            }
            if wait > 0 {
                let waited = ContinuousClock.now - started
                metrics.recordClaimWait(
                    seconds: Double(waited.components.seconds) + Double(waited.components.attoseconds) / 1e18,
                    claimed: !claims.isEmpty)
            }
            return claims
        }
    }

    /// The job id, the `worker_id` every worker call carries, its `claim_token` (optional
    /// for workers written before tokens), and the rest of the body.
    private func workerCall(_ request: Request, _ context: BotrixRequestContext) async throws -> (
        UUID, String, String?, JSONBody
    ) {
        let id = try request.jobID(context)
        var body = try await JSONBody.read(request, context: context)
        let token = body.string("claim_token", maxLength: 128)
        guard let worker = body.require(body.string("worker_id", maxLength: 128), "worker_id", "the worker's name")
        else {
            var all = body.errors
            if all.isEmpty { all = [FieldError("worker_id", "is required")] }
            throw Problem.validation(all)
        }
        return (id, worker, token, body)
    }

    /// `PUT /api/jobs/{id}` `{progress?, status?, error_message?, worker_id?, claim_token?}`
    /// for workers written against the older API (deprecated): progress and `status`
    /// completed/failed are one command — decided and appended together, once under an
    /// `Idempotency-Key`. Without `worker_id` it acts only on a claim made before tokens.
    private func legacyUpdate(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let id = try request.jobID(context)
        var body = try await JSONBody.read(request, context: context)
        let progress = body.int("progress")
        let status = body.string("status")
        let error = body.string("error_message", maxLength: 2000)
        let named = body.string("worker_id", maxLength: 128)
        let token = body.string("claim_token", maxLength: 128)
        try body.finish()
        if let status, !["running", "completed", "failed"].contains(status) {
            throw Problem.validation([FieldError("status", "must be running, completed or failed")])
        }
        guard progress != nil || status != nil || error != nil else {
            throw Problem.validation([FieldError("body", "send at least one of progress, status, error_message")])
        }
        return try await commands.run(request, context, actor: named ?? "", render: JobRoutes.rendered) { metadata in
            try await service.legacyUpdate(
                jobID: id, workerID: named ?? "", claimToken: token, progress: progress, status: status, error: error,
                metadata: metadata)
        }
    }

    /// A heartbeat's answer: the job, its lease, and what to do next.
    @Sendable static func beat(_ job: JobView, _ stopping: Bool) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        let instruction: WorkerInstruction =
            job.status == .cancelled ? .cancel : stopping ? .shutdown : .continue
        var w = JSONObjectWriter()
        w.string("instruction", instruction.rawValue)
        w.raw("job", Render.job(job))
        Render.optional(&w, "lease_expires_at", job.status == .running ? job.leaseExpiresAt : nil)
        return (.ok, w.bytes(), [.eTag: Render.etag(job)])
    }

    @Sendable static func claimed(_ claim: ClaimedJob?) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        guard let claim else { return (.noContent, [], [:]) }
        return (.ok, one(claim), [.eTag: Render.etag(claim.job)])
    }

    /// One claimed job: the job, its lease, and the attempt's token.
    static func one(_ claim: ClaimedJob) -> [UInt8] {
        var w = JSONObjectWriter()
        w.raw("job", Render.job(claim.job))
        Render.optional(&w, "lease_expires_at", claim.job.leaseExpiresAt)
        w.string("claim_token", claim.claimToken)
        w.int("attempt", claim.job.attempts)
        w.int("lease_seconds", claim.job.leaseSeconds)
        return w.bytes()
    }

    /// A claim with `max_jobs`: every job claimed, each with its own token and lease.
    @Sendable static func claimedMany(_ claims: [ClaimedJob]) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        guard !claims.isEmpty else { return (.noContent, [], [:]) }
        var w = JSONObjectWriter()
        w.raw("jobs", Render.array(claims.map(one)))
        return (.ok, w.bytes(), [:])
    }

    @Sendable static func accountCreated(_ account: AccountView) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        (
            .created, Render.account(account),
            [.location: "/api/accounts/\(account.id)", .eTag: Render.etag(account.version)]
        )
    }
}

/// The connection-close registration of one waiting claim, set when it starts waiting.
private final class Registration: Sendable {
    let token = Mutex<UInt64?>(nil)
}
