public import EventLog
public import Foundation
import Storage

/// What an account search found: the accounts, newest first, and whether the walk of the
/// indexes stopped at its budget before the end of the matches.
public struct AccountSearch: Sendable {
    public var accounts: [AccountView]
    public var truncated: Bool
}

/// Reads the operator's dashboard needs beside the API's: a search through the email and
/// username indexes, jobs of one priority, and the state as of a point of the log.
extension BotrixService {
    /// Accounts whose email or username starts with `prefix` (compared lowercased, as the
    /// uniqueness indexes store them): a seek into each index, never a scan of the views.
    /// Matches come in the indexes' order (alphabetical: emails first, then usernames not
    /// already found), at most `limit`; `status` and `jobID` narrow them, and each index is
    /// walked for at most `budget` entries. `truncated` says that more may match.
    public func searchAccounts(
        prefix: String, status: AccountStatus? = nil, jobID: UUID? = nil, limit: Int, budget: Int = maximumSkip
    ) throws -> AccountSearch {
        let accounts = projections.accounts
        let key = Array(AccountRules.uniquenessKey(prefix).utf8)
        guard !key.isEmpty, key.count <= maximumKeySize else { return AccountSearch(accounts: [], truncated: false) }
        return try store.environment.read { txn in
            var seen = Set<Int64>()
            var found: [AccountView] = []
            var truncated = false
            for index in [accounts.emails, accounts.usernames] {
                try txn.withCursor(index) { cursor in
                    var entry = try cursor.seek(atLeast: key)
                    var walked = 0
                    while let e = entry, e.key.starts(with: key) {
                        guard found.count < limit, walked < budget else {
                            truncated = true
                            return
                        }
                        walked += 1
                        if let id = BigEndian.uint64(e.value).map({ Int64(bitPattern: $0) }), seen.insert(id).inserted,
                            let account = try accounts.view(id, in: txn),
                            status == nil || account.status == status, jobID == nil || account.jobID == jobID
                        {
                            found.append(account)
                        }
                        entry = try cursor.next()
                    }
                }
            }
            return AccountSearch(accounts: found, truncated: truncated)
        }
    }

    /// Jobs of one priority, newest first, optionally of one status: the by-status (or
    /// by-creation) index walked with the priority as a filter, so at most `skipLimit`
    /// entries are passed over; `total` counts the matches among at most `skipLimit` entries.
    public func jobs(
        priority: Int, page: Int = 1, limit: Int, status: JobStatus? = nil, after: UInt64? = nil,
        skipLimit: Int = maximumSkip
    ) throws -> Page<JobView> {
        let jobs = projections.jobs
        let skip = after == nil ? try Self.skip(page: page, limit: limit, skipLimit: skipLimit) : 0
        return try store.environment.read { txn in
            let index = status == nil ? jobs.byCreated : jobs.byStatus
            let prefix = status.map { [$0.code] } ?? []
            func match(_ value: [UInt8]) throws -> JobView? {
                guard let id = Keys.uuid(from: value), let job = try jobs.view(id, in: txn), job.priority == priority
                else { return nil }
                return job
            }
            // Counted among at most `skipLimit` entries, not a scan of the whole index.
            var counting = IndexScan(database: index, prefix: prefix, before: nil, skipLimit: 0)
            let counted = try counting.newestFirst(skip: 0, take: skipLimit, filtered: true, in: txn) { _, value in
                try match(value).map { _ in true }
            }
            var scan = IndexScan(database: index, prefix: prefix, before: after, skipLimit: skipLimit)
            let (items, next) = try scan.newestFirst(skip: skip, take: limit, filtered: true, in: txn) { _, value in
                try match(value)
            }
            return Page(
                items: items.map(leases.overlay), page: page, limit: limit, total: counted.items.count, next: next,
                examined: scan.examined, totalIsLowerBound: counting.examined >= skipLimit)
        }
    }

    /// The state of jobs and accounts as of `cut`, folded from the log alone (the audit's
    /// view: never read from projections). It reads the log from the start, so a caller
    /// bounds it: past `budget` events it throws ``ReplayTooLong`` instead of folding.
    public func replay(upTo cut: ReplayCut, budget: UInt64) throws -> ReplayState {
        let head = try store.log.head().sequence
        // The first event past the budget: folding it would read more than the budget allows.
        if head > budget, let beyond = try store.log.read(after: budget, limit: 1).first, cut.includes(beyond) {
            let events: UInt64
            if case .sequence(let sequence) = cut { events = min(sequence, head) } else { events = head }
            throw ReplayTooLong(events: events, budget: budget)
        }
        return try ReplayState.fold(store.log, upTo: cut)
    }

    /// Checks the newest `count` events of the chain and the stored head against them (see
    /// ``EventLog/verifyTail(last:)``): what a health page can afford on every load.
    public func verifyTail(last count: Int) throws -> LogVerification {
        try store.log.verifyTail(last: count)
    }
}

/// A replay asked to fold more events than its budget allows.
public struct ReplayTooLong: Error, CustomStringConvertible {
    public var events: UInt64
    public var budget: UInt64
    public var description: String {
        "replaying to that point folds \(events) events, more than the \(budget) a page may; run `botrix replay` on the server instead"
    }
}
