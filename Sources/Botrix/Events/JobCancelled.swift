public import Foundation
import JSONCoding

/// An operator cancelled the job; its worker's next call gets 409.
public struct JobCancelled: Sendable, Equatable {
    public var jobID: UUID
    public var reason: String?

    public init(
        jobID: UUID, reason: String? = nil
    ) {
        self.jobID = jobID
        self.reason = reason
    }
}

extension JobCancelled {
    /// Its stored JSON: the keys of `schemas/events/JobCancelled.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("reason", reason)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobCancelled {
        return JobCancelled(jobID: try o.uuid("job_id"), reason: try o.optionalString("reason"))
    }
}
