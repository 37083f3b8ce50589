import Botrix
import EventLog
import Foundation
import Hummingbird

/// `/ui/accounts` (status, job, and a search by the start of an email or username through
/// their indexes) and an account's page with its history. Passwords and verification codes
/// are never put in a page model, so no template can show them.
extension Dashboard {
    func accountsPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let statusText = query["status"].map(String.init) ?? ""
        let jobText = (query["job"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let search = (query["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let status = statusText.isEmpty ? nil : AccountStatus(rawValue: statusText)
        if !statusText.isEmpty, status == nil {
            throw DashboardProblem.badInput("\"\(statusText)\" is not an account status", back: "/ui/accounts")
        }
        let jobID = jobText.isEmpty ? nil : UUID(text: jobText)
        if !jobText.isEmpty, jobID == nil {
            throw DashboardProblem.badInput("\"\(jobText)\" is not a job id (a UUID)", back: "/ui/accounts")
        }
        guard search.utf8.count <= 254 else {
            throw DashboardProblem.badInput("search for at most 254 bytes", back: "/ui/accounts")
        }
        let after = try Self.cursor(request, back: "/ui/accounts")
        var filters: [(String, String)] = []
        if !search.isEmpty { filters.append(("q", search)) }
        if let status { filters.append(("status", status.rawValue)) }
        if let jobID { filters.append(("job", jobID.text)) }
        let service = self.service
        var model = base(context, nav: "Accounts")
        if !search.isEmpty {
            let found = try await reads.run {
                try service.searchAccounts(
                    prefix: search, status: status, jobID: jobID, limit: 50, budget: Self.priorityScan)
            }
            model["accounts"] = found.accounts.map(Self.accountRow)
            model["anyAccounts"] = !found.accounts.isEmpty
            model["summary"] =
                "\(found.accounts.count)\(found.truncated ? "+" : "") account\(found.accounts.count == 1 ? "" : "s") whose email or username starts with “\(search)”\(found.truncated ? " (the first \(found.accounts.count) shown: type more to narrow)" : ""): matching emails in alphabetical order, then matching usernames"
        } else {
            let page = try await reads.run {
                // A job's accounts of one status: filtered while walking, 2,000 entries at most.
                try service.accounts(
                    limit: 25, status: status, jobID: jobID, after: after,
                    skipLimit: jobID != nil && status != nil ? Self.priorityScan : maximumSkip)
            }
            model["accounts"] = page.items.map(Self.accountRow)
            model["anyAccounts"] = !page.items.isEmpty
            // With a job and a status, the count stops at the skip limit.
            let capped = jobID != nil && status != nil && page.total >= Self.priorityScan
            model["summary"] =
                "\(page.total)\(capped ? "+" : "") account\(page.total == 1 ? "" : "s")\(filters.isEmpty ? "" : " match"), newest first"
            model["pager"] = Self.pager("/ui/accounts", filters, after: after, next: page.next)
        }
        model["q"] = search
        model["jobFilter"] = jobText
        model["filtered"] = !filters.isEmpty
        model["statusOptions"] = AccountStatus.allCases.map { ["value": $0.rawValue, "selected": $0 == status] }
        return renderer.page("accounts", model)
    }

    func accountPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Rendered {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw DashboardProblem.notFound(
                "\"\(text)\" is not an account id (a positive whole number)", back: "/ui/accounts")
        }
        let (service, budget) = (self.service, scanBudget)
        let (account, events) = try await reads.run {
            (
                try service.account(id),
                try service.events(
                    after: 0, limit: 200, filter: EventFilter(stream: Streams.account(id)), budget: budget)
            )
        }
        guard account != nil || !events.events.isEmpty else {
            throw DashboardProblem.notFound("no account with id \(id)", back: "/ui/accounts")
        }
        var model = base(context, nav: "Accounts", live: true)
        model["accountID"] = String(id)
        if let account {
            var fields = Self.accountRow(account)
            fields["birthdate"] = account.birthdate
            fields["jobID"] = account.jobID.text
            fields["updatedAt"] = account.updatedAt
            fields["version"] = String(account.version)
            if let data = DashboardFormat.data(.object(account.accountData)) { fields["accountData"] = data }
            model["account"] = fields
        }
        model["events"] = events.events.map(Self.timelineEntry)
        return Rendered(template: Self.wantsFragment(request) ? "account_live" : "account", model: model)
    }

    /// An account as one table row: never its password or verification code.
    static func accountRow(_ account: AccountView) -> [String: Any] {
        [
            "id": String(account.id), "email": account.email, "username": account.username,
            "status": account.status.rawValue, "createdAt": account.createdAt,
        ]
    }
}
