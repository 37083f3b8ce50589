import Botrix
import Hummingbird
import JSONCoding
import NIOCore

/// A request body read as one JSON object, with typed field access that collects a
/// message per bad field (wrong type, out of range, unknown) instead of failing at the first.
struct JSONBody {
    private let object: JSONObject
    private(set) var errors: [FieldError] = []
    private var seen: Set<String> = []

    init(_ object: JSONObject) { self.object = object }

    /// Reads the body (413 past the context's limit), insisting on a JSON object.
    static func read(_ request: Request, context: BotrixRequestContext, required: Bool = true) async throws -> JSONBody
    {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw Problem(
                status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type",
                detail: "send the body as application/json, not \(type)")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > context.maxUploadSize {
            throw NIOTooManyBytesError(maxBytes: context.maxUploadSize)  // 413 at once, not after the body timeout
        }
        let buffer = try await collect(request, limit: context.maxUploadSize, within: context.bodyTimeout)
        // The body may have taken BODY_TIMEOUT_SECONDS: is the caller still who may act?
        try context.checkStillAuthorized()
        let bytes = Array(buffer.readableBytesView)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if required { throw Problem.malformedJSON("the body is empty: send a JSON object") }
            context.body.read(JSONWriting.value(.object([:])))  // an empty body means the same as {}
            return JSONBody([:])
        }
        let value: JSONValue
        do {
            value = try JSONReader.parse(bytes)
        } catch {
            throw Problem.malformedJSON("the body is not valid JSON: \(error)")
        }
        // The fingerprint is of the JSON, not the bytes: spacing and key order do not count.
        context.body.read(JSONWriting.value(value))
        guard case .object(let object) = value else {
            throw Problem.malformedJSON("the body must be a JSON object")
        }
        return JSONBody(object)
    }

    /// The whole body, or 408 when it has not arrived within `within` (a client trickling
    /// a body byte by byte would otherwise hold its connection and task for ever).
    static func collect(_ request: Request, limit: Int, within: Duration) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await request.body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(for: within)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw Problem(
                    status: .requestTimeout, slug: "body-timeout", title: "Request timeout",
                    detail: "the request body did not arrive within \(within.components.seconds) s",
                    headers: [.connection: "close"])
            }
            return buffer
        }
    }

    mutating func int(_ key: String, _ range: ClosedRange<Int>? = nil) -> Int? {
        seen.insert(key)
        switch object[key] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard let int = Int(exactly: value), range.map({ $0.contains(int) }) ?? true else {
                errors.append(
                    FieldError(
                        key, "must be a whole number\(range.map { " from \($0.lowerBound) to \($0.upperBound)" } ?? "")"
                    ))
                return nil
            }
            return int
        default:
            errors.append(FieldError(key, "must be a whole number"))
            return nil
        }
    }

    mutating func string(_ key: String, maxLength: Int = 10_000) -> String? {
        seen.insert(key)
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard value.utf8.count <= maxLength else {
                errors.append(FieldError(key, "must be at most \(maxLength) bytes of UTF-8"))
                return nil
            }
            return value
        default:
            errors.append(FieldError(key, "must be a string"))
            return nil
        }
    }

    mutating func bool(_ key: String) -> Bool? {
        seen.insert(key)
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default:
            errors.append(FieldError(key, "must be true or false"))
            return nil
        }
    }

    mutating func object(_ key: String) -> JSONObject? {
        seen.insert(key)
        switch object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        default:
            errors.append(FieldError(key, "must be a JSON object"))
            return nil
        }
    }

    /// Priority as a number 0...10 or one of low, normal, high.
    mutating func priority(_ key: String) -> Int? {
        seen.insert(key)
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)? where Priority.names[text.lowercased()] != nil: return Priority.names[text.lowercased()]
        case .int(let value)? where Priority.range.contains(Int(clamping: value)): return Int(value)
        default:
            errors.append(FieldError(key, "must be 0...10 or one of low, normal, high"))
            return nil
        }
    }

    mutating func require<T>(_ value: T?, _ key: String, _ what: String) -> T? {
        if value == nil, !errors.contains(where: { $0.field == key }) {
            errors.append(FieldError(key, "is required: \(what)"))
        }
        return value
    }

    /// Throws 422 with every collected message, and one per field the route does not know.
    func finish() throws {
        var all = errors
        for key in object.keys.sorted() where !seen.contains(key) {
            all.append(FieldError(key, "is not a field of this request"))
        }
        if !all.isEmpty { throw Problem.validation(all) }
    }
}
