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
    public static func fold(
        _ log: EventLog, upTo cut: ReplayCut, job: UUID? = nil, account: Int64? = nil
    ) throws -> ReplayState {
        var state = ReplayState()
        try log.environment.read { txn in
            try log.forEach(after: 0, in: txn) { recorded in
                guard cut.includes(recorded) else { return false }
                state.sequence = recorded.sequence
                state.recordedAt = recorded.recordedAt
                guard let event = try DomainEvent(recorded) else { return true }
                state.apply(event, EventPosition(recorded), job: job, account: account)
                return true
            }
        }
        return state
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
