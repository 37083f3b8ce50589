import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSONCoding

/// The API's JSON shapes, written by hand with sorted keys (see schemas/openapi.yaml).
enum Render {
    static func job(_ job: JobView) -> [UInt8] { job.json() }

    static func account(_ account: AccountView) -> [UInt8] { account.json() }

    static func list<Item>(_ page: Page<Item>, _ render: (Item) -> [UInt8]) -> [UInt8] {
        var w = JSONObjectWriter()
        w.raw("data", array(page.items.map(render)))
        var p = JSONObjectWriter()
        p.int("page", page.page)
        p.int("limit", page.limit)
        p.int("total", page.total)
        p.int("pages", page.pages)
        if let next = page.next { p.string("next", String(next)) } else { p.null("next") }
        w.raw("pagination", p.bytes())
        return w.bytes()
    }

    /// A page of the log: `next_after` is where to go on (the last event examined, which
    /// a filtered read may have skipped), `more` whether the read stopped before the end.
    static func events(_ page: EventPage) -> [UInt8] {
        var w = JSONObjectWriter()
        w.raw("data", array(page.events.map { $0.publicJSON() }))
        w.int("head", page.head)
        if let next = page.next { w.int("next_after", next) } else { w.null("next_after") }
        w.bool("more", page.more)
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

    /// A job's ETag: its stream version and its accounts recorded. Recording an account
    /// changes the job through an event of the account's stream, which leaves the job's
    /// version as it was; the pair changes with every change of the job.
    static func etag(_ job: JobView) -> String { "\"\(job.version)-\(job.accountsRecorded)\"" }
}
