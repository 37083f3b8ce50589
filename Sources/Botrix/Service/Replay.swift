public import EventLog
public import Foundation

/// Where to stop folding the log: after a sequence, or after the last event recorded
/// at or before a time (`recorded_at` never decreases along the log).
public enum ReplayCut: Sendable, Equatable {
    case sequence(UInt64)
    case time(Int64)

    func includes(_ event: RecordedEvent) -> Bool {
        switch self {
        case .sequence(let last): event.sequence <= last
        case .time(let milliseconds): event.recordedAt <= milliseconds
        }
    }
}

/// The state of jobs and accounts at a moment, folded from the log alone with the same
/// `evolve` functions the projections use — never read from projections.
public struct ReplayState: Sendable {
    public var jobs: [UUID: JobView] = [:]
    public var accounts: [Int64: AccountView] = [:]
    /// The last event folded (0: none).
    public var sequence: UInt64 = 0
    public var recordedAt: Int64 = 0

    /// Folds the log from the start up to `cut`, keeping only `job` or `account` when given.
    /// Reads page by page, each page in its own short read transaction (records never
    /// change), so a long replay beside a server does not pin old pages.
    public static func fold(
        _ log: EventLog, upTo cut: ReplayCut, job: UUID? = nil, account: Int64? = nil, pageSize: Int = 4096
    ) throws -> ReplayState {
        var state = ReplayState()
        var position: UInt64 = 0
        while true {
            let page = try log.read(after: position, limit: pageSize, fields: .forProjections)
            for recorded in page {
                guard cut.includes(recorded) else { return state }
                state.sequence = recorded.sequence
                state.recordedAt = recorded.recordedAt
                position = recorded.sequence
                guard let event = try DomainEvent(recorded) else { continue }
                state.apply(event, EventPosition(recorded), job: job, account: account)
            }
            if page.count < pageSize { return state }
        }
    }

    /// Folds one event, as the projections route it.
    public mutating func apply(_ event: DomainEvent, _ position: EventPosition, job: UUID? = nil, account: Int64? = nil)
    {
        if let id = event.jobID, job == nil || job == id, account == nil {
            if let next = JobView.evolve(jobs[id], event, position) { jobs[id] = next }
        }
        if let id = event.accountID, account == nil || account == id, job == nil {
            accounts[id] = AccountView.evolve(accounts[id], event, position)
        }
    }
}
