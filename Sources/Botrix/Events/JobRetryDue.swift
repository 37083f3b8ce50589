public import Foundation
import JSONCoding

/// A retry's backoff is over: the job joins the queue again (at the head of its
/// priority), so queue depth, `GET /api/queue` and the claim order count it as ready.
/// The lease monitor appends it once `available_at` has passed.
public struct JobRetryDue: Sendable, Equatable {
    public var jobID: UUID
    /// The `available_at` that passed.
    public var availableAt: String

    public init(jobID: UUID, availableAt: String) {
        self.jobID = jobID
        self.availableAt = availableAt
    }
}

extension JobRetryDue {
    /// Its stored JSON: the keys of `schemas/events/JobRetryDue.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("available_at", availableAt)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobRetryDue {
        return JobRetryDue(jobID: try o.uuid("job_id"), availableAt: try o.string("available_at"))
    }
}
