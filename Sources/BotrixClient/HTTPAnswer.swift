import Foundation
import NIOHTTP1

/// One answer of the server, its body read whole: what the retry loop hands back to the
/// typed calls, which decode it.
struct HTTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    /// The `ETag` header (a job's is `"version-accountsRecorded"`).
    var etag: String? { headers.first(name: "ETag") }

    /// True when the server replayed a stored answer for the Idempotency-Key.
    var replayed: Bool { headers.first(name: "Idempotent-Replayed")?.lowercased() == "true" }

    /// The wait the server asked for before a retry.
    var retryAfter: Duration? { RetryAfter.parse(headers.first(name: "Retry-After")) }

    /// The body as text (for errors and logs).
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded as `T`; an undecodable body is `BotrixError.unexpected`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw BotrixError.unexpected(status: status, body: String(text.prefix(2000)))
        }
    }

    /// The error an answer of 400 or more stands for: its problem when it carries one.
    var error: BotrixError {
        if let wire = try? JSONDecoder().decode(ProblemWire.self, from: Data(body)), wire.isProblem {
            let detail = wire.detail ?? wire.title ?? "HTTP \(status)"
            return .problem(
                Problem(
                    status: status, type: wire.type ?? "about:blank", title: wire.title ?? "", detail: detail,
                    instance: wire.instance, requestID: wire.requestID ?? headers.first(name: "X-Request-ID"),
                    errors: wire.errors ?? [], retryAfter: retryAfter))
        }
        return .unexpected(status: status, body: String(text.prefix(2000)))
    }
}

/// A problem+json body as sent, every member optional.
private struct ProblemWire: Decodable {
    var type: String?
    var title: String?
    var detail: String?
    var instance: String?
    var requestID: String?
    var errors: [FieldError]?

    var isProblem: Bool { type != nil || title != nil || detail != nil }

    enum CodingKeys: String, CodingKey {
        case type, title, detail, instance, errors
        case requestID = "request_id"
    }
}
