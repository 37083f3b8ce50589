import Botrix
import Foundation
import HTTPTypes
import Hummingbird

/// Path and query parameters with precise 400/422 answers.
extension Request {
    /// The `{id}` of a job route: a UUID.
    func jobID(_ context: BotrixRequestContext) throws -> UUID {
        let text = context.parameters.get("id") ?? ""
        guard let id = UUID(text: text) else { throw Problem.badRequest("\"\(text)\" is not a job id (a UUID)") }
        return id
    }

    /// The `{id}` of an account route: a positive integer.
    func accountID(_ context: BotrixRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw Problem.badRequest("\"\(text)\" is not an account id (a positive whole number)")
        }
        return id
    }

    /// `limit` (1...100, default 10) and either `page` (from 1, for the seed's clients;
    /// deep pages are refused) or `after`, the `pagination.next` cursor of the page before.
    func pagination() throws -> (page: Int, limit: Int, after: UInt64?) {
        let query = uri.queryParameters
        var errors: [FieldError] = []
        var page = 1
        var limit = 10
        var after: UInt64?
        if let text = query["page"].map(String.init) {
            if let value = Int(text), value >= 1, value <= 1_000_000 {
                page = value
            } else {
                errors.append(FieldError("page", "must be a whole number from 1"))
            }
        }
        if let text = query["limit"].map(String.init) {
            if let value = Int(text), (1...100).contains(value) {
                limit = value
            } else {
                errors.append(FieldError("limit", "must be a whole number from 1 to 100"))
            }
        }
        if let text = query["after"].map(String.init) {
            if let value = UInt64(text), value > 0 {
                after = value
            } else {
                errors.append(FieldError("after", "must be the pagination.next cursor of the previous page"))
            }
            if query["page"] != nil { errors.append(FieldError("page", "cannot be combined with after")) }
        }
        if !errors.isEmpty { throw Problem.validation(errors) }
        return (page, limit, after)
    }

    /// A query parameter that must parse when present.
    func query<T>(_ name: String, _ what: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        guard let value = parse(text) else { throw Problem.validation([FieldError(name, "must be \(what)")]) }
        return value
    }

    /// An account's `If-Match: "7"` (or `7`, or `W/"7"`) as a version; nil when absent.
    /// A job's ETag form (`"7-3"`) is not an account's: it can never match (412).
    func ifMatch() throws -> UInt64? {
        guard let (version, progress) = try ifMatchParts() else { return nil }
        if progress != nil {
            throw Problem(
                status: .preconditionFailed, slug: "stale-version", title: "Precondition failed",
                detail:
                    "If-Match \"\(version)-\(progress!)\" is a job's ETag form, not this account's; send the ETag you read"
            )
        }
        return version
    }

    /// A job's `If-Match`: its whole ETag, `"7-3"` (version and progress). A bare version
    /// can match no job (its ETag changes with recorded accounts too): 412.
    func ifMatchJob() throws -> (version: UInt64, progress: Int)? {
        guard let (version, progress) = try ifMatchParts() else { return nil }
        guard let progress else {
            throw Problem(
                status: .preconditionFailed, slug: "stale-version", title: "Precondition failed",
                detail:
                    "If-Match \"\(version)\" is not a job's ETag: send the whole ETag you read from GET /api/jobs/{id}, such as \"\(version)-0\""
            )
        }
        return (version, progress)
    }

    private func ifMatchParts() throws -> (UInt64, Int?)? {
        // `*` matches any current representation: no version to compare (RFC 9110).
        guard let header = headers[.ifMatch], header.trimmingCharacters(in: .whitespaces) != "*" else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 2, let version = UInt64(parts[0]), let progress = Int(parts[1]), progress >= 0 {
            return (version, progress)
        }
        guard let version = UInt64(trimmed) else {
            throw Problem(
                status: .badRequest, slug: "bad-if-match", title: "Bad If-Match",
                detail: "If-Match must be the ETag of the resource, such as \"3\"")
        }
        return (version, nil)
    }
}
