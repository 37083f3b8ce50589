public import Foundation
import JSONCoding

/// The lease holder gave the job back unfinished (it is shutting down, or cannot do it
/// now): the job returns to the head of its priority and the attempt is not counted.
public struct JobReleased: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String
    public var reason: String?

    public init(jobID: UUID, workerID: String, reason: String? = nil) {
        self.jobID = jobID
        self.workerID = workerID
        self.reason = reason
    }
}

extension JobReleased {
    /// Its stored JSON: the keys of `schemas/events/JobReleased.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
        w.string("reason", reason)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobReleased {
        return JobReleased(
            jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"),
            reason: try o.optionalString("reason"))
    }
}
