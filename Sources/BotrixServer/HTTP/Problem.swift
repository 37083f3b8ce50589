import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSONCoding
import NIOCore
import Storage

/// An RFC 9457 problem: every error answer is `application/problem+json` with a
/// `detail` a person can act on, and per-field `errors` for validation.
struct Problem: Error, Sendable {
    var status: HTTPResponse.Status
    /// A short slug; the `type` URI is `/problems/<slug>`.
    var slug: String
    var title: String
    var detail: String
    var errors: [FieldError] = []
    var headers: HTTPFields = [:]

    static func badRequest(_ detail: String) -> Problem {
        Problem(status: .badRequest, slug: "bad-request", title: "Bad request", detail: detail)
    }

    static func malformedJSON(_ detail: String) -> Problem {
        Problem(status: .badRequest, slug: "malformed-json", title: "Malformed JSON", detail: detail)
    }

    static func validation(_ errors: [FieldError]) -> Problem {
        Problem(
            status: .unprocessableContent, slug: "validation-failed", title: "Validation failed",
            detail: errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "), errors: errors)
    }

    static func notFound(_ detail: String) -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not found", detail: detail)
    }

    func response(instance: String, requestID: String) -> Response {
        var body = JSONObjectWriter()
        body.string("type", "/problems/\(slug)")
        body.string("title", title)
        body.int("status", Int(status.code))
        body.string("detail", detail)
        body.string("instance", instance)
        if !requestID.isEmpty { body.string("request_id", requestID) }
        if !errors.isEmpty {
            body.raw(
                "errors",
                JSONWriting.value(
                    .array(errors.map { .object(["field": .string($0.field), "message": .string($0.message)]) })))
        }
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.bytes())))
    }
}

extension Problem {
    /// The problem for any error a handler throws; nothing reaches the client as an
    /// empty 500.
    init(_ error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let domain as DomainError:
            switch domain {
            case .validation(let fields): self = .validation(fields)
            case .notFound: self = .notFound(domain.description)
            case .conflict(let reason, let kind):
                self = Problem(status: .conflict, slug: kind.rawValue, title: kind.title, detail: reason)
            case .preconditionFailed:
                self = Problem(
                    status: .preconditionFailed, slug: "stale-version", title: "Precondition failed",
                    detail: domain.description)
            }
        case let bridge as any EventLogErrorBridge where bridge.storageProblem != nil:
            self = bridge.storageProblem!
        case let storage as any StorageError:
            self = .storage(storage)
        case let log as EventLogError:
            self = Problem(
                status: .unprocessableContent, slug: "invalid-input", title: "Invalid input", detail: log.description)
        case let failure as any StorageFailure where failure.storageFailure != nil:
            self = failure.storageFailure!.outOfSpace ? .insufficientStorage : .storageUnavailable
        case let refused as ClaimWaitRefused:
            self = Problem(
                status: .tooManyRequests, slug: "too-many-waiting-claims", title: "Too many waiting claims",
                detail: refused.description, headers: [.retryAfter: "1"])
        case let revoked as ClaimWaitRevoked:
            self = AuthMiddleware.unauthorized(revoked.description)
        case let reused as IdempotencyKeyReused:
            self = Problem(
                status: .unprocessableContent, slug: "idempotency-key-reused", title: "Idempotency key reused",
                detail: reused.description)
        case SecretBoxError.erasurePending:
            // The deletion committed; only the keyring rewrite (the erasure) failed. Retrying
            // the DELETE answers 404; the rewrite is retried by the next write or start.
            self = Problem(
                status: .serviceUnavailable, slug: "erasure-pending", title: "Erasure pending",
                detail:
                    "the account is deleted, but erasing its secrets is not finished (the keyring could not be rewritten, often a full disk); it completes with the next write once space is free",
                headers: [.retryAfter: "30"])
        case is NIOTooManyBytesError:
            self = Problem(
                status: .contentTooLarge, slug: "body-too-large", title: "Body too large",
                detail: "the request body is larger than 256 KiB")
        case let http as HTTPError:
            switch http.status {
            case .contentTooLarge:
                self = Problem(
                    status: .contentTooLarge, slug: "body-too-large", title: "Body too large",
                    detail: "the request body is larger than 256 KiB")
            case .notFound:
                self = .notFound("no route matches this method and path; see schemas/openapi.yaml")
            default:
                self = Problem(
                    status: http.status, slug: "http-\(http.status.code)", title: http.status.reasonPhrase,
                    detail: http.body ?? http.status.reasonPhrase)
            }
        default:
            self = Problem(
                status: .internalServerError, slug: "internal", title: "Internal error",
                detail: "an unexpected error occurred; the request id is in the logs with the cause")
        }
    }
}
