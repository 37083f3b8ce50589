public import Foundation
import JSONCoding

/// A worker took the job with a lease until `leaseExpiresAt`; `attempt` counts claims.
public struct JobClaimed: Sendable, Equatable {
    public var jobID: UUID
    public var workerID: String
    public var leaseExpiresAt: String
    public var attempt: Int
    /// The lease length the worker claimed; every renewal extends by it. Absent in claims
    /// recorded before it was kept (they renew by LEASE_SECONDS).
    public var leaseSeconds: Int?
    /// SHA-256 (hex) of the attempt's claim token: audits see which attempt did what; the
    /// token itself is never stored. Absent in claims recorded before tokens existed.
    public var claimTokenHash: String?
    /// The id of the API key that claimed; calls on this attempt must come from it.
    public var apiKey: String?

    public init(
        jobID: UUID, workerID: String, leaseExpiresAt: String, attempt: Int, leaseSeconds: Int? = nil,
        claimTokenHash: String? = nil, apiKey: String? = nil
    ) {
        self.jobID = jobID
        self.workerID = workerID
        self.leaseExpiresAt = leaseExpiresAt
        self.attempt = attempt
        self.leaseSeconds = leaseSeconds
        self.claimTokenHash = claimTokenHash
        self.apiKey = apiKey
    }
}

extension JobClaimed {
    /// Its stored JSON: the keys of `schemas/events/JobClaimed.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
        w.string("lease_expires_at", leaseExpiresAt)
        w.int("attempt", attempt)
        w.int("lease_seconds", leaseSeconds)
        w.string("claim_token_sha256", claimTokenHash)
        w.string("api_key", apiKey)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> JobClaimed {
        return JobClaimed(
            jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"),
            leaseExpiresAt: try o.string("lease_expires_at"), attempt: try o.int("attempt"),
            leaseSeconds: try o.optionalInt("lease_seconds"),
            claimTokenHash: try o.optionalString("claim_token_sha256"), apiKey: try o.optionalString("api_key"))
    }
}
