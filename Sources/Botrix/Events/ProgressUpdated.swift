public import Foundation
import JSONCoding

/// The lease holder reported progress or a heartbeat (no counts); the lease is extended.
public struct ProgressUpdated: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String?
    public var progress: Int?
    public var successful: Int?
    public var failed: Int?
    public var message: String?
    public var leaseExpiresAt: String?

    public init(
        jobID: UUID, workerID: String? = nil, progress: Int? = nil, successful: Int? = nil, failed: Int? = nil,
        message: String? = nil, leaseExpiresAt: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.progress = progress
        self.successful = successful
        self.failed = failed
        self.message = message
        self.leaseExpiresAt = leaseExpiresAt
    }
}

extension ProgressUpdated {
    /// Its stored JSON: the keys of `schemas/events/ProgressUpdated.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
        w.int("progress", progress)
        w.int("successful", successful)
        w.int("failed", failed)
        w.string("message", message)
        w.string("lease_expires_at", leaseExpiresAt)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> ProgressUpdated {
        return ProgressUpdated(
            jobID: try o.uuid("job_id"), workerID: try o.optionalString("worker_id"),
            progress: try o.optionalInt("progress"), successful: try o.optionalInt("successful"),
            failed: try o.optionalInt("failed"), message: try o.optionalString("message"),
            leaseExpiresAt: try o.optionalString("lease_expires_at"))
    }
}
