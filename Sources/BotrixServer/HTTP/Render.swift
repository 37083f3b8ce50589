import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird

/// The API's JSON shapes, written by hand with sorted keys (see schemas/openapi.yaml).
enum Render {
    static func job(_ job: JobView) -> [UInt8] { job.json() }

    static func account(_ account: AccountView) -> [UInt8] { account.json() }

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
