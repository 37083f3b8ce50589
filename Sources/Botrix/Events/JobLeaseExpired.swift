public import Foundation
import JSONCoding

/// The worker's lease ran out: the job goes back to the head of its priority when
/// attempts remain (`requeued`); otherwise a `JobFailed` follows in the same append.
public struct JobLeaseExpired: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String
    public var leaseExpiresAt: String
    public var requeued: Bool

    public init(
        jobID: UUID, workerID: String, leaseExpiresAt: String, requeued: Bool
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.leaseExpiresAt = leaseExpiresAt
        self.requeued = requeued
    }
}

extension JobLeaseExpired {
    /// Its stored JSON: the keys of `schemas/events/JobLeaseExpired.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
        w.string("lease_expires_at", leaseExpiresAt)
        w.bool("requeued", requeued)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobLeaseExpired {
        return JobLeaseExpired(
            jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"),
            leaseExpiresAt: try o.string("lease_expires_at"), requeued: try o.bool("requeued"))
    }
}
