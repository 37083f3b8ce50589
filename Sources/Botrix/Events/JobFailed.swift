public import Foundation
import JSONCoding

/// The job failed: back to the queue when `requeued`, otherwise finished as failed.
public struct JobFailed: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String?
    public var error: String
    public var requeued: Bool
    /// When a requeued job may be claimed again (a retry's backoff); nil: at once.
    public var availableAt: String?

    public init(
        jobID: UUID, workerID: String? = nil, error: String, requeued: Bool, availableAt: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.error = error
        self.requeued = requeued
        self.availableAt = availableAt
    }
}

extension JobFailed {
    /// Its stored JSON: the keys of `schemas/events/JobFailed.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
        w.string("error", error)
        w.bool("requeued", requeued)
        w.string("available_at", availableAt)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobFailed {
        return JobFailed(
            jobID: try o.uuid("job_id"), workerID: try o.optionalString("worker_id"),
            error: try o.string("error"), requeued: try o.bool("requeued"),
            availableAt: try o.optionalString("available_at"))
    }
}
