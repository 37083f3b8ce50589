import CLMDB

/// A position in one database, moved in key order. Entries it returns point into the
/// map and stay valid until the cursor moves or the transaction ends.
public struct Cursor {
    let handle: OpaquePointer
    /// The database this cursor walks.
    public let database: Database

    /// One key and value, borrowed from the map.
    public struct Entry {
        public let key: UnsafeRawBufferPointer
        public let value: UnsafeRawBufferPointer
        /// Copies of both, to keep after the cursor moves.
        public var copied: (key: [UInt8], value: [UInt8]) { (Array(key), Array(value)) }
    }

    /// The first entry in key order.
    public func first() throws -> Entry? { try move(MDB_FIRST) }
    /// The last entry in key order.
    public func last() throws -> Entry? { try move(MDB_LAST) }
    /// The entry after the current one.
    public func next() throws -> Entry? { try move(MDB_NEXT) }
    /// The entry before the current one.
    public func previous() throws -> Entry? { try move(MDB_PREV) }

    /// The first entry whose key is at least `key`.
    public func seek(atLeast key: [UInt8]) throws -> Entry? {
        try withMDBValue(key) { keyValue in try move(MDB_SET_RANGE, key: &keyValue) }
    }

    /// The last entry whose key is at most `key`.
    public func seek(atMost key: [UInt8]) throws -> Entry? {
        guard let entry = try seek(atLeast: key) else { return try last() }
        if entry.key.elementsEqual(key) { return entry }
        return try previous()
    }

    private func move(_ operation: MDB_cursor_op) throws -> Entry? {
        var key = MDB_val()
        return try move(operation, key: &key)
    }

    private func move(_ operation: MDB_cursor_op, key: inout MDB_val) throws -> Entry? {
        var value = MDB_val()
        let code = mdb_cursor_get(handle, &key, &value, operation)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "move cursor on \(database.name)")
        return Entry(
            key: UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
            value: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }
}
