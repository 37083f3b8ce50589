import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// The API's JSON shapes, written by hand with sorted keys (see schemas/openapi.yaml).
enum Render {
    /// Keys are added in sorted order, so the writer skips its sort on this hot path.
    static func job(_ job: JobView, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> [UInt8] {
        var w = JSONObjectWriter()
        w.int("attempts", job.attempts)
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

    static func account(_ account: AccountView, revealPassword: Bool = false) -> [UInt8] {
        var w = JSONObjectWriter()
        w.object("account_data", account.accountData)
        w.string("birthdate", account.birthdate)
        w.string("created_at", account.createdAt)
        w.string("email", account.email)
        w.int("id", account.id)
        w.string("job_id", account.jobID.text)
        if revealPassword { w.string("password", account.password) }
        w.string("status", account.status.rawValue)
        w.string("updated_at", account.updatedAt)
        w.string("username", account.username)
        optional(&w, "verification_code", account.verificationCode)
        w.int("version", account.version)
        return w.bytes()
    }

    static func list(_ items: [[UInt8]], page: Int, limit: Int, total: Int) -> [UInt8] {
        var w = JSONObjectWriter()
        w.raw("data", array(items))
        var p = JSONObjectWriter()
        p.int("page", page)
        p.int("limit", limit)
        p.int("total", total)
        p.int("pages", total == 0 ? 0 : (total + limit - 1) / limit)
        w.raw("pagination", p.bytes())
        return w.bytes()
    }

    static func events(_ events: [RecordedEvent], head: UInt64) -> [UInt8] {
        var w = JSONObjectWriter()
        w.raw("data", array(events.map { $0.publicJSON() }))
        w.int("head", head)
        if let last = events.last { w.int("next_after", last.sequence) } else { w.null("next_after") }
        return w.bytes()
    }

    static func array(_ items: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, item) in items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += item
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    static func optional(_ w: inout JSONObjectWriter, _ key: String, _ value: String?) {
        if let value { w.string(key, value) } else { w.null(key) }
    }

    static func response(_ status: HTTPResponse.Status = .ok, _ body: [UInt8], headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A strong ETag from a stream version.
    static func etag(_ version: UInt64) -> String { "\"\(version)\"" }
}
