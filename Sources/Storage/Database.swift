/// A named, ordered key space inside a store: an LMDB named database today, a table in a
/// SQL backend. Handles are issued by ``StorageEngine/database(_:create:)`` once at start-up
/// and stay valid for the life of the engine that issued them.
public struct Database: Sendable, Hashable {
    /// The name it was opened with; stable across backends and files.
    public let name: String
    /// The backend's own handle (LMDB's `MDB_dbi`); meaningless to any other engine.
    public let id: UInt32

    /// For backends: a handle for `name` that the backend recognises by `id`.
    public init(name: String, id: UInt32) {
        self.name = name
        self.id = id
    }
}
