import Foundation

// Hand-written JSON for the ten payloads: the same keys as their `CodingKeys` and
// `schemas/events/`, sorted, so what is hashed is reproducible. `EventSchemaTests` holds
// these to the schemas and to a round trip.

extension JSONObject {
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
        case .jobCreated(let e):
            w.uuid("job_id", e.jobID)
            w.int("count", e.count)
            w.int("priority", e.priority)
            w.bool("verification_enabled", e.verificationEnabled)
        case .jobClaimed(let e):
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
            w.string("lease_expires_at", e.leaseExpiresAt)
            w.int("attempt", e.attempt)
            w.int("lease_seconds", e.leaseSeconds)
            w.string("claim_token_sha256", e.claimTokenHash)
            w.string("api_key", e.apiKey)
        case .progressUpdated(let e):
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
            w.int("progress", e.progress)
            w.int("successful", e.successful)
            w.int("failed", e.failed)
            w.string("message", e.message)
            w.string("lease_expires_at", e.leaseExpiresAt)
        case .accountCreated(let e):
            w.int("account_id", e.accountID)
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
            w.string("email", e.email)
            w.string("username", e.username)
            w.string("password", e.password)
            w.string("birthdate", e.birthdate)
            w.string("verification_code", e.verificationCode)
            w.string("status", e.status.rawValue)
            w.object("account_data", e.accountData)
        case .accountUpdated(let e):
            w.int("account_id", e.accountID)
            w.string("status", e.status?.rawValue)
            w.string("verification_code", e.verificationCode)
            w.object("account_data", e.accountData)
            w.string("password", e.password)
            w.string("email", e.email)
            w.string("username", e.username)
        case .accountDeleted(let e):
            w.int("account_id", e.accountID)
            w.uuid("job_id", e.jobID)
        case .jobCompleted(let e):
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
        case .jobFailed(let e):
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
            w.string("error", e.error)
            w.bool("requeued", e.requeued)
            w.string("available_at", e.availableAt)
        case .jobCancelled(let e):
            w.uuid("job_id", e.jobID)
            w.string("reason", e.reason)
        case .jobReleased(let e):
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
            w.string("reason", e.reason)
        case .jobRetryDue(let e):
            w.uuid("job_id", e.jobID)
            w.string("available_at", e.availableAt)
        case .jobLeaseExpired(let e):
            w.uuid("job_id", e.jobID)
            w.string("worker_id", e.workerID)
            w.string("lease_expires_at", e.leaseExpiresAt)
            w.bool("requeued", e.requeued)
        }
        return w.bytes()
    }

    static func readJSON(type: String, _ o: JSONObject) throws -> DomainEvent? {
        switch type {
        case "JobCreated":
            return .jobCreated(
                JobCreated(
                    jobID: try o.uuid("job_id"), count: try o.int("count"), priority: try o.int("priority"),
                    verificationEnabled: try o.bool("verification_enabled")))
        case "JobClaimed":
            return .jobClaimed(
                JobClaimed(
                    jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"),
                    leaseExpiresAt: try o.string("lease_expires_at"), attempt: try o.int("attempt"),
                    leaseSeconds: try o.optionalInt("lease_seconds"),
                    claimTokenHash: try o.optionalString("claim_token_sha256"), apiKey: try o.optionalString("api_key"))
            )
        case "ProgressUpdated":
            return .progressUpdated(
                ProgressUpdated(
                    jobID: try o.uuid("job_id"), workerID: try o.optionalString("worker_id"),
                    progress: try o.optionalInt("progress"), successful: try o.optionalInt("successful"),
                    failed: try o.optionalInt("failed"), message: try o.optionalString("message"),
                    leaseExpiresAt: try o.optionalString("lease_expires_at")))
        case "AccountCreated":
            guard let status = try o.accountStatus("status") else { throw FieldMissing(key: "status") }
            return .accountCreated(
                AccountCreated(
                    accountID: try o.int64("account_id"), jobID: try o.uuid("job_id"),
                    workerID: try o.string("worker_id"),
                    email: try o.string("email"), username: try o.string("username"),
                    password: try o.string("password"),
                    birthdate: try o.string("birthdate"), verificationCode: try o.optionalString("verification_code"),
                    status: status, accountData: try o.object("account_data") ?? [:]))
        case "AccountUpdated":
            return .accountUpdated(
                AccountUpdated(
                    accountID: try o.int64("account_id"), status: try o.accountStatus("status"),
                    verificationCode: try o.optionalString("verification_code"),
                    accountData: try o.object("account_data"), password: try o.optionalString("password"),
                    email: try o.optionalString("email"), username: try o.optionalString("username")))
        case "AccountDeleted":
            return .accountDeleted(AccountDeleted(accountID: try o.int64("account_id"), jobID: try o.uuid("job_id")))
        case "JobCompleted":
            return .jobCompleted(JobCompleted(jobID: try o.uuid("job_id"), workerID: try o.string("worker_id")))
        case "JobFailed":
            return .jobFailed(
                JobFailed(
                    jobID: try o.uuid("job_id"), workerID: try o.optionalString("worker_id"),
                    error: try o.string("error"), requeued: try o.bool("requeued"),
                    availableAt: try o.optionalString("available_at")))
        case "JobCancelled":
            return .jobCancelled(JobCancelled(jobID: try o.uuid("job_id"), reason: try o.optionalString("reason")))
        case "JobReleased":
            return .jobReleased(
                JobReleased(
                    jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"),
                    reason: try o.optionalString("reason")))
        case "JobRetryDue":
            return .jobRetryDue(JobRetryDue(jobID: try o.uuid("job_id"), availableAt: try o.string("available_at")))
        case "JobLeaseExpired":
            return .jobLeaseExpired(
                JobLeaseExpired(
                    jobID: try o.uuid("job_id"), workerID: try o.string("worker_id"),
                    leaseExpiresAt: try o.string("lease_expires_at"), requeued: try o.bool("requeued")))
        default:
            return nil
        }
    }
}
