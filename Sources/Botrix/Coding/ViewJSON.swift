import EventLog
import Foundation
import JSONCoding

// The API's JSON for views: the shape of `schemas/openapi.yaml`, shared by the server and
// the command line (`botrix replay`). Keys are added in sorted order, so the writer skips
// its sort on this hot path.

extension JobView {
    /// The job as the API shows it, with `percentage` and `duration_seconds` (to `now`
    /// while it runs).
    public func json(now: Int64? = nil) -> [UInt8] {
        let job = self
        let now = now ?? Int64(Date().timeIntervalSince1970 * 1000)
        // Keys in byte order, so the writer never reorders them.
        var w = JSONObjectWriter()
        w.int("accounts_recorded", job.accountsRecorded)
        w.int("attempts", job.attempts)
        optional(&w, "available_at", job.status == .pending ? job.availableAt : nil)
        optional(&w, "completed_at", job.completedAt)
        w.int("count", job.count)
        w.string("created_at", job.createdAt)
        if let started = job.startedAt.flatMap(Timestamp.parse) {
            let end = job.completedAt.flatMap(Timestamp.parse) ?? now
            w.raw("duration_seconds", JSONWriting.fixed(Double(max(0, end - started)) / 1000, decimals: 3))
        } else {
            w.null("duration_seconds")
        }
        optional(&w, "error_message", job.errorMessage)
        w.int("failed", job.failed)
        w.string("id", job.id.text)
        optional(&w, "lease_expires_at", job.leaseExpiresAt)
        optional(&w, "message", job.message)
        w.raw("percentage", JSONWriting.fixed(Double(job.progress) * 100 / Double(max(1, job.count)), decimals: 1))
        w.int("priority", job.priority)
        w.int("progress", job.progress)
        optional(&w, "started_at", job.startedAt)
        w.string("status", job.status.rawValue)
        w.int("successful", job.successful)
        w.string("updated_at", job.updatedAt)
        w.bool("verification_enabled", job.verificationEnabled)
        w.int("version", job.version)
        optional(&w, "worker_id", job.workerID)
        return w.bytes()
    }

}

extension AccountView {
    /// The account as the API shows it. Its secrets are stored sealed (see ``SecretBox``):
    /// `password` appears, and `verification_code` is other than null, only when revealed.
    public func json(password: String? = nil, verificationCode: String? = nil) -> [UInt8] {
        let account = self
        var w = JSONObjectWriter()
        w.object("account_data", account.accountData)
        w.string("birthdate", account.birthdate)
        w.string("created_at", account.createdAt)
        w.string("email", account.email)
        w.int("id", account.id)
        w.string("job_id", account.jobID.text)
        if let password { w.string("password", password) }
        w.string("status", account.status.rawValue)
        w.string("updated_at", account.updatedAt)
        w.string("username", account.username)
        optional(&w, "verification_code", verificationCode)
        w.int("version", account.version)
        return w.bytes()
    }
}

private func optional(_ w: inout JSONObjectWriter, _ key: String, _ value: String?) {
    if let value { w.string(key, value) } else { w.null(key) }
}
