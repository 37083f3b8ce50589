public import EventLog
public import Foundation
import JSONCoding

/// The events of the catalogue (README). Names are the contract: fields grow, never change meaning.
/// Each case's payload is stored as the event's `data`, a JSON object with snake_case keys
/// encoded with sorted keys, and has a JSON Schema in `schemas/events/`.
public enum DomainEvent: Sendable, Equatable {
    case jobCreated(JobCreated)
    case jobClaimed(JobClaimed)
    case progressUpdated(ProgressUpdated)
    case accountCreated(AccountCreated)
    case accountUpdated(AccountUpdated)
    case accountDeleted(AccountDeleted)
    case jobCompleted(JobCompleted)
    case jobFailed(JobFailed)
    case jobCancelled(JobCancelled)
    case jobLeaseExpired(JobLeaseExpired)
    case jobReleased(JobReleased)
    case jobRetryDue(JobRetryDue)

    /// Every event type name, in catalogue order.
    public static let allTypes = [
        "JobCreated", "JobClaimed", "ProgressUpdated", "AccountCreated", "AccountUpdated", "AccountDeleted",
        "JobCompleted", "JobFailed", "JobCancelled", "JobLeaseExpired", "JobReleased", "JobRetryDue",
    ]

    /// The event's name in the log.
    public var type: String {
        switch self {
        case .jobCreated: "JobCreated"
        case .jobClaimed: "JobClaimed"
        case .progressUpdated: "ProgressUpdated"
        case .accountCreated: "AccountCreated"
        case .accountUpdated: "AccountUpdated"
        case .accountDeleted: "AccountDeleted"
        case .jobCompleted: "JobCompleted"
        case .jobFailed: "JobFailed"
        case .jobCancelled: "JobCancelled"
        case .jobLeaseExpired: "JobLeaseExpired"
        case .jobReleased: "JobReleased"
        case .jobRetryDue: "JobRetryDue"
        }
    }

    /// The stream the event belongs to: `job-<uuid>` or `account-<id>`.
    public var stream: String {
        switch self {
        case .jobCreated(let e): Streams.job(e.jobID)
        case .jobClaimed(let e): Streams.job(e.jobID)
        case .progressUpdated(let e): Streams.job(e.jobID)
        case .accountCreated(let e): Streams.account(e.accountID)
        case .accountUpdated(let e): Streams.account(e.accountID)
        case .accountDeleted(let e): Streams.account(e.accountID)
        case .jobCompleted(let e): Streams.job(e.jobID)
        case .jobFailed(let e): Streams.job(e.jobID)
        case .jobCancelled(let e): Streams.job(e.jobID)
        case .jobLeaseExpired(let e): Streams.job(e.jobID)
        case .jobReleased(let e): Streams.job(e.jobID)
        case .jobRetryDue(let e): Streams.job(e.jobID)
        }
    }

    /// The job whose view this event changes (its own stream's job, or the job an
    /// account was produced for); nil for account-only events.
    public var jobID: UUID? {
        switch self {
        case .jobCreated(let e): e.jobID
        case .jobClaimed(let e): e.jobID
        case .progressUpdated(let e): e.jobID
        case .accountCreated(let e): e.jobID
        case .jobCompleted(let e): e.jobID
        case .jobFailed(let e): e.jobID
        case .jobCancelled(let e): e.jobID
        case .jobLeaseExpired(let e): e.jobID
        case .jobReleased(let e): e.jobID
        case .jobRetryDue(let e): e.jobID
        case .accountUpdated, .accountDeleted: nil
        }
    }

    /// The account whose view this event changes; nil for job events.
    public var accountID: Int64? {
        switch self {
        case .accountCreated(let e): e.accountID
        case .accountUpdated(let e): e.accountID
        case .accountDeleted(let e): e.accountID
        default: nil
        }
    }

    /// The payload as stored: deterministic JSON (sorted keys), so hashes reproduce.
    public func encodedData() throws -> [UInt8] { writeJSON() }

    /// Decodes a recorded event of the catalogue; nil for a type Botrix does not know.
    public init?(type: String, data: [UInt8]) throws {
        guard DomainEvent.allTypes.contains(type) else { return nil }
        guard let event = try DomainEvent.readJSON(type: type, try JSONReader.members(data)) else { return nil }
        self = event
    }

    /// Decodes a recorded event; nil for a type outside the catalogue.
    public init?(_ recorded: RecordedEvent) throws {
        try self.init(type: recorded.type, data: recorded.data)
    }
}

/// Stream names of the two aggregates.
public enum Streams {
    public static func job(_ id: UUID) -> String { "job-" + id.text }

    /// Whether `stream` is ``job(_:)`` of `id`, without spelling the id out: a replay asks
    /// this for every event of a job.
    public static func isJob(_ stream: String, _ id: UUID) -> Bool {
        let bytes = stream.utf8
        guard bytes.count == 40, bytes.starts(with: "job-".utf8) else { return false }
        return UUIDText.spells(id, bytes.dropFirst(4))
    }
    public static func account(_ id: Int64) -> String { "account-\(id)" }
}
