import Foundation
import JSONCoding

// Hand-written JSON for the events: each payload's `write(into:)` and `read(_:)` sit beside
// its declaration (Events/<Type>.swift) with the keys of `schemas/events/`, written sorted so
// what is hashed is reproducible. `EventSchemaTests` holds them to the schemas and to a round
// trip; this file has the shared field readers and the dispatch by event type.

extension StoredFields {
    func uuid(_ key: String) throws -> UUID {
        guard let value = UUID(text: try string(key)) else { throw FieldMissing(key: key) }
        return value
    }

    func accountStatus(_ key: String) throws -> AccountStatus? {
        guard let text = try optionalString(key) else { return nil }
        guard let status = AccountStatus(rawValue: text) else { throw FieldMissing(key: key) }
        return status
    }

    func object(_ key: String) throws -> JSONObject? {
        switch self[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        default: throw FieldMissing(key: key)
        }
    }
}

extension JSONObjectWriter {
    mutating func uuid(_ key: String, _ value: UUID) { string(key, value.text) }
}

extension DomainEvent {
    func writeJSON() -> [UInt8] {
        var w = JSONObjectWriter()
        switch self {
        case .jobCreated(let e): e.write(into: &w)
        case .jobClaimed(let e): e.write(into: &w)
        case .progressUpdated(let e): e.write(into: &w)
        case .accountCreated(let e): e.write(into: &w)
        case .accountUpdated(let e): e.write(into: &w)
        case .accountDeleted(let e): e.write(into: &w)
        case .jobCompleted(let e): e.write(into: &w)
        case .jobFailed(let e): e.write(into: &w)
        case .jobCancelled(let e): e.write(into: &w)
        case .jobReleased(let e): e.write(into: &w)
        case .jobRetryDue(let e): e.write(into: &w)
        case .jobLeaseExpired(let e): e.write(into: &w)
        }
        return w.bytes()
    }

    static func readJSON(type: String, _ o: some StoredFields) throws -> DomainEvent? {
        switch type {
        case "JobCreated": return .jobCreated(try JobCreated.read(o))
        case "JobClaimed": return .jobClaimed(try JobClaimed.read(o))
        case "ProgressUpdated": return .progressUpdated(try ProgressUpdated.read(o))
        case "AccountCreated": return .accountCreated(try AccountCreated.read(o))
        case "AccountUpdated": return .accountUpdated(try AccountUpdated.read(o))
        case "AccountDeleted": return .accountDeleted(try AccountDeleted.read(o))
        case "JobCompleted": return .jobCompleted(try JobCompleted.read(o))
        case "JobFailed": return .jobFailed(try JobFailed.read(o))
        case "JobCancelled": return .jobCancelled(try JobCancelled.read(o))
        case "JobReleased": return .jobReleased(try JobReleased.read(o))
        case "JobRetryDue": return .jobRetryDue(try JobRetryDue.read(o))
        case "JobLeaseExpired": return .jobLeaseExpired(try JobLeaseExpired.read(o))
        default: return nil
        }
    }
}
