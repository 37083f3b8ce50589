public import Foundation
import LMDB

/// A page of a list, with the totals the API shows.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var page: Int
    public var limit: Int
    public var total: Int
    public var pages: Int { total == 0 ? 0 : (total + limit - 1) / limit }
}

/// Job totals for `GET /api/jobs/stats`.
public struct JobStats: Sendable, Equatable {
    public var total: Int64
    public var byStatus: [JobStatus: Int64]
    public var queueDepthByPriority: [Int: Int64]
    public var activeLeases: Int64
    /// Completed over finished-and-not-cancelled; nil before any job finished.
    public var successRate: Double?
}

/// Account totals for `GET /api/accounts/stats`.
public struct AccountStats: Sendable, Equatable {
    public var total: Int64
    public var byStatus: [AccountStatus: Int64]
}

/// The read path: every read of SPEC.md from read-only transactions over projections.
extension BotrixService {
    public func job(_ id: UUID) throws -> JobView? {
        try store.environment.read { try projections.jobs.view(id, in: $0) }
    }

    public func account(_ id: Int64) throws -> AccountView? {
        try store.environment.read { try projections.accounts.view(id, in: $0) }
    }

    /// Jobs, newest first, optionally of one status. `page` from 1, `limit` 1...100.
    public func jobs(page: Int, limit: Int, status: JobStatus? = nil) throws -> Page<JobView> {
        let jobs = projections.jobs
        return try store.environment.read { txn in
            let counts = try jobs.counts(in: txn)
            let total = Int(counts[status.map { "status.\($0.rawValue)" } ?? "total"] ?? 0)
            let index = status == nil ? jobs.byCreated : jobs.byStatus
            let prefix = status.map { [$0.code] } ?? []
            var items: [JobView] = []
            try IndexScan.newestFirst(index, prefix: prefix, skip: (page - 1) * limit, take: limit, in: txn) {
                _, value in
                if let id = Keys.uuid(from: value), let job = try jobs.view(id, in: txn) { items.append(job) }
            }
            return Page(items: items, page: page, limit: limit, total: total)
        }
    }

    /// Accounts, newest first, optionally of one status and/or one job.
    public func accounts(page: Int, limit: Int, status: AccountStatus? = nil, jobID: UUID? = nil) throws
        -> Page<AccountView>
    {
        let accounts = projections.accounts
        return try store.environment.read { txn in
            var items: [AccountView] = []
            let skip = (page - 1) * limit
            if let jobID {
                // Bounded by the job's count: filter while scanning and count the matches.
                var matched = 0
                try IndexScan.newestFirst(accounts.byJob, prefix: Keys.uuid(jobID), skip: 0, take: .max, in: txn) {
                    key, _ in
                    guard let id = BigEndian.uint64(key, at: 16).map({ Int64(bitPattern: $0) }),
                        let account = try accounts.view(id, in: txn), status == nil || account.status == status
                    else { return }
                    if matched >= skip && items.count < limit { items.append(account) }
                    matched += 1
                }
                return Page(items: items, page: page, limit: limit, total: matched)
            }
            let counts = try accounts.counts(in: txn)
            let total = Int(counts[status.map { "status.\($0.rawValue)" } ?? "total"] ?? 0)
            let index = status == nil ? accounts.views : accounts.byStatus
            let prefix = status.map { [$0.code] } ?? []
            try IndexScan.newestFirst(index, prefix: prefix, skip: skip, take: limit, in: txn) { key, _ in
                guard let id = BigEndian.uint64(key, at: prefix.count).map({ Int64(bitPattern: $0) }),
                    let account = try accounts.view(id, in: txn)
                else { return }
                items.append(account)
            }
            return Page(items: items, page: page, limit: limit, total: total)
        }
    }

    /// Pending jobs in the order workers will get them.
    public func queue(limit: Int = 100) throws -> [JobView] {
        let jobs = projections.jobs
        return try store.environment.read { txn in
            var out: [JobView] = []
            try txn.withCursor(jobs.queue) { cursor in
                var entry = try cursor.first()
                while let e = entry, out.count < limit {
                    if let id = Keys.uuid(from: e.value), let job = try jobs.view(id, in: txn) { out.append(job) }
                    entry = try cursor.next()
                }
            }
            return out
        }
    }

    public func jobStats() throws -> JobStats {
        let counts = try store.environment.read { try projections.jobs.counts(in: $0) }
        var byStatus: [JobStatus: Int64] = [:]
        for status in JobStatus.allCases { byStatus[status] = counts["status.\(status.rawValue)"] ?? 0 }
        var depth: [Int: Int64] = [:]
        for priority in Priority.range { depth[priority] = counts["queue.priority.\(priority)"] ?? 0 }
        let completed = byStatus[.completed] ?? 0
        let failed = byStatus[.failed] ?? 0
        return JobStats(
            total: counts["total"] ?? 0, byStatus: byStatus, queueDepthByPriority: depth,
            activeLeases: counts["leases"] ?? 0,
            successRate: completed + failed == 0 ? nil : Double(completed) / Double(completed + failed))
    }

    public func accountStats() throws -> AccountStats {
        let counts = try store.environment.read { try projections.accounts.counts(in: $0) }
        var byStatus: [AccountStatus: Int64] = [:]
        for status in AccountStatus.allCases { byStatus[status] = counts["status.\(status.rawValue)"] ?? 0 }
        return AccountStats(total: counts["total"] ?? 0, byStatus: byStatus)
    }
}

/// Walks an index backwards (newest first) within a key prefix.
enum IndexScan {
    static func newestFirst(
        _ database: Database, prefix: [UInt8], skip: Int, take: Int, in txn: some TransactionReading,
        _ body: (_ key: [UInt8], _ value: [UInt8]) throws -> Void
    ) throws {
        guard take > 0 else { return }
        try txn.withCursor(database) { cursor in
            var entry =
                prefix.isEmpty
                ? try cursor.last() : try cursor.seek(atMost: prefix + [UInt8](repeating: 0xFF, count: 24))
            var skipped = 0
            var taken = 0
            while let e = entry, e.key.starts(with: prefix), taken < take {
                if skipped < skip {
                    skipped += 1
                } else {
                    try body(Array(e.key), Array(e.value))
                    taken += 1
                }
                entry = try cursor.previous()
            }
        }
    }
}
