public import Foundation
import JSONCoding

/// A job was asked for: `count` accounts at `priority`.
public struct JobCreated: Sendable, Equatable {
    public var jobID: UUID
    public var count: Int
    public var priority: Int
    public var verificationEnabled: Bool

    public init(
        jobID: UUID, count: Int, priority: Int, verificationEnabled: Bool
    ) {
        self.jobID = jobID
        self.count = count
        self.priority = priority
        self.verificationEnabled = verificationEnabled
    }
}

extension JobCreated {
    /// Its stored JSON: the keys of `schemas/events/JobCreated.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.int("count", count)
        w.int("priority", priority)
        w.bool("verification_enabled", verificationEnabled)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobCreated {
        return JobCreated(
            jobID: try o.uuid("job_id"), count: try o.int("count"), priority: try o.int("priority"),
            verificationEnabled: try o.bool("verification_enabled"))
    }
}
