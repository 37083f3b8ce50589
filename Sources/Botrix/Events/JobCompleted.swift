public import Foundation
import JSONCoding

/// The lease holder finished the job.
public struct JobCompleted: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String

    public init(
        jobID: UUID, workerID: String
    ) {
        self.jobID = jobID
        self.workerID = workerID
    }
}

extension JobCompleted {
    /// Its stored JSON: the keys of `schemas/events/JobCompleted.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobCompleted {
        return JobCompleted(jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"))
    }
}
