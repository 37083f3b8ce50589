/// A JSON object's members in document order, from ``JSONReader/members(_:)``.
///
/// For reading a few known fields of a small object — an event's payload, decoded for every
/// event a rebuild replays: looking a key up along a dozen members costs less than hashing
/// every key into a dictionary first (which was a third of decoding an event). Nested
/// objects are ``JSONValue/object(_:)`` as usual.
public struct JSONMembers: Sendable {
    /// The members, keys unique, in the order they were written.
    public let members: [(key: String, value: JSONValue)]

    public init(members: [(key: String, value: JSONValue)]) {
        self.members = members
    }

    /// The value of `key`, or nil.
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }
}
