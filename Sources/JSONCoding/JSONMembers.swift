/// A JSON object's members in document order, from ``JSONReader/members(_:)``.
///
/// For reading a few known fields of a small object — an event's payload, decoded for every
/// event a rebuild replays: looking a key up along a dozen members costs less than hashing
/// every key into a dictionary first (which was a third of decoding an event). Nested
/// objects are ``JSONValue/object(_:)`` as usual.
public struct JSONMembers: Sendable {
    /// The members, keys unique, in the order they were written.
    public let members: [JSONMember]

    public init(members: [JSONMember]) {
        self.members = members
    }

    /// The value of `key`, or nil.
    public subscript(key: String) -> JSONValue? {
        // Most keys asked for are not the member looked at: lengths differ more often than
        // not, and comparing them is cheaper than comparing the strings. Keys of different
        // byte lengths never match, as in JSON, which compares keys code point for code
        // point (Swift's `==` alone would match canonically equivalent spellings).
        let length = key.utf8.count
        for member in members where member.key.utf8.count == length && member.key == key { return member.value }
        return nil
    }
}

/// One member of a JSON object: a struct, not a `(key, value)` pair, because an array of
/// pairs is destroyed through the runtime's generic tuple metadata, looked up for every array
/// (`perf`: a twentieth of a replay's decoding thread).
public struct JSONMember: Sendable {
    /// The member's name, unescaped.
    public let key: String
    /// The member's value, parsed.
    public let value: JSONValue

    /// A member as the reader found it.
    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}
