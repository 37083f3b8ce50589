import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// The API's JSON shapes, written by hand with sorted keys (see schemas/openapi.yaml).
enum Render {
    static func job(_ job: JobView, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> [UInt8] {
        var w = JSONObjectWriter()
        w.string("id", job.id.text)
        w.int("count", job.count)
        w.string("status", job.status.rawValue)
        w.int("progress", job.progress)
        w.int("successful", job.successful)
        w.int("failed", job.failed)
        w.int("priority", job.priority)
        w.bool("verification_enabled", job.verificationEnabled)
        optional(&w, "error_message", job.errorMessage)
        optional(&w, "message", job.message)
        w.int("attempts", job.attempts)
        optional(&w, "worker_id", job.workerID)
        optional(&w, "lease_expires_at", job.leaseExpiresAt)
        w.string("created_at", job.createdAt)
        w.string("updated_at", job.updatedAt)
        optional(&w, "started_at", job.startedAt)
        optional(&w, "completed_at", job.completedAt)
        w.int("version", job.version)
        w.raw("percentage", Array(String(format: "%.1f", Double(job.progress) * 100 / Double(max(1, job.count))).utf8))
        if let started = job.startedAt.flatMap(Timestamp.parse) {
            let end = job.completedAt.flatMap(Timestamp.parse) ?? now
            w.raw("duration_seconds", Array(String(format: "%.3f", Double(max(0, end - started)) / 1000).utf8))
        } else {
            w.null("duration_seconds")
        }
        return w.bytes()
    }

    static func account(_ account: AccountView, revealPassword: Bool = false) -> [UInt8] {
        var w = JSONObjectWriter()
        w.int("id", account.id)
        w.string("email", account.email)
        w.string("username", account.username)
        if revealPassword { w.string("password", account.password) }
        w.string("birthdate", account.birthdate)
        optional(&w, "verification_code", account.verificationCode)
        w.string("status", account.status.rawValue)
        w.string("job_id", account.jobID.text)
        w.object("account_data", account.accountData)
        w.string("created_at", account.createdAt)
        w.string("updated_at", account.updatedAt)
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
