import JSONCoding

/// A stored payload's fields by key: the members an event is decoded from (``JSONMembers``,
/// in document order).
protocol StoredFields {
    subscript(key: String) -> JSONValue? { get }
}

extension JSONMembers: StoredFields {}

/// Typed reads of a stored payload's fields, for the events' `read(_:)`.
extension StoredFields {
    /// A required string field, or a decoding failure naming it.
    func string(_ key: String) throws -> String {
        guard case .string(let value)? = self[key] else { throw FieldMissing(key: key) }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        switch self[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw FieldMissing(key: key)
        }
    }

    func int(_ key: String) throws -> Int {
        guard case .int(let value)? = self[key], let int = Int(exactly: value) else { throw FieldMissing(key: key) }
        return int
    }

    func int64(_ key: String) throws -> Int64 {
        guard case .int(let value)? = self[key] else { throw FieldMissing(key: key) }
        return value
    }

    func optionalInt(_ key: String) throws -> Int? {
        switch self[key] {
        case nil, .null?: return nil
        case .int(let value)?: return Int(value)
        default: throw FieldMissing(key: key)
        }
    }

    func bool(_ key: String) throws -> Bool {
        guard case .bool(let value)? = self[key] else { throw FieldMissing(key: key) }
        return value
    }
}

/// A stored payload lacks a field or has it with the wrong type.
struct FieldMissing: Error, CustomStringConvertible {
    let key: String
    var description: String { "field \(key) is missing or has the wrong type" }
}
