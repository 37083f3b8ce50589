import Botrix
import Foundation
import Hummingbird
import JSONCoding

/// Operators' account routes: list, read (password only when revealed), edit, delete, stats.
struct AccountRoutes: Sendable {
    let service: BotrixService
    /// Where list pages are read (off the cooperative pool), but for small ones.
    let reads: ReadPool
    /// The most a page may read, and render, on Swift's cooperative pool: its stored rows,
    /// and its rendered accounts, at most this many bytes each (and `account_data` to parse
    /// at most a sixty-fourth of it; see `BotrixService.accountsJSON(…within:)`). Handing a
    /// read to the pool and back costs two thread wake-ups, a third of a small page's work; a bigger page would hold a cooperative thread, which
    /// also answers `/health/live`, for longer than that hop costs. A default page of ten
    /// accounts is about 3 KiB and costs about what one job read costs; under a flood of
    /// such pages `/health/live` waits as long as under a flood of job reads (README).
    static let inPlaceBytes = 8 * 1024
    var commands: CommandRunner { CommandRunner(service: service) }

    func register(on router: Router<BotrixRequestContext>) {
        router.get("/api/accounts") { request, _ in
            let (page, limit, after) = try request.pagination()
            let status = try request.query(
                "status", "one of \(AccountStatus.allCases.map(\.rawValue).joined(separator: ", "))"
            ) {
                AccountStatus(rawValue: $0)
            }
            let job = try request.query("job_id", "a job id (a UUID)") { UUID(text: $0) }
            let service = self.service
            // Rendered straight from the rows (no views built). A page the service can read
            // within `inPlaceBytes` (a first or cursor page without a job) is served here;
            // any other on the read pool.
            let result: Page<[UInt8]>
            if job == nil,
                let small = try service.accountsJSON(
                    page: page, limit: limit, status: status, after: after, within: Self.inPlaceBytes)
            {
                result = small
            } else {
                result = try await reads.run {
                    try service.accountsJSON(page: page, limit: limit, status: status, jobID: job, after: after)
                }
            }
            return Render.response(.ok, Render.list(result) { $0 })
        }
        router.get("/api/accounts/stats") { _, _ in
            let stats = try service.accountStats()
            var w = JSONObjectWriter()
            w.int("total", stats.total)
            var byStatus = JSONObjectWriter()
            for (status, count) in stats.byStatus { byStatus.int(status.rawValue, count) }
            w.raw("by_status", byStatus.bytes())
            return Render.response(.ok, w.bytes())
        }
        router.get("/api/accounts/{id}") { request, context in
            let id = try request.accountID(context)
            let reveal = try request.query("reveal", "password") { $0 == "password" ? true : nil } ?? false
            if reveal, !context.openAccess, context.apiKey?.allows(.secrets) != true {
                throw Problem(
                    status: .forbidden, slug: "missing-scope", title: "Missing scope",
                    detail: "revealing a password needs a key with the secrets scope")
            }
            guard let account = try service.account(id) else { throw Problem.notFound("no account with id \(id)") }
            let password = reveal ? try service.revealPassword(accountID: id) : nil
            let code = reveal ? try service.revealVerificationCode(accountID: id) : nil
            return Render.response(
                .ok, account.json(password: password, verificationCode: code),
                headers: [.eTag: Render.etag(account.version)])
        }
        router.put("/api/accounts/{id}") { request, context in
            let id = try request.accountID(context)
            let expected = try request.ifMatch()
            var body = try await JSONBody.read(request, context: context)
            let status = try body.string("status").map { text -> AccountStatus in
                guard let status = AccountStatus(rawValue: text) else {
                    throw Problem.validation([
                        FieldError(
                            "status", "must be one of \(AccountStatus.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    ])
                }
                return status
            }
            let update = UpdateAccount(
                accountID: id, expectedVersion: expected, status: status,
                verificationCode: body.string("verification_code"), accountData: body.object("account_data"),
                password: body.string("password"), email: body.string("email"), username: body.string("username"))
            try body.finish()
            return try await commands.run(request, context, actor: context.operatorName, render: Self.rendered) {
                metadata in
                try await service.updateAccount(update, metadata: metadata)
            }
        }
        router.delete("/api/accounts/{id}") { request, context in
            let id = try request.accountID(context)
            let expected = try request.ifMatch()
            try await service.deleteAccount(
                id: id, expectedVersion: expected,
                metadata: CommandMetadata(
                    requestID: context.requestID, actor: context.operatorName, apiKey: context.apiKey?.id))
            return Response(status: .noContent)
        }
    }

    @Sendable static func rendered(_ account: AccountView) -> (HTTPResponse.Status, [UInt8], HTTPFields) {
        (.ok, Render.account(account), [.eTag: Render.etag(account.version)])
    }
}
