import CLMDB
public import Storage

/// LMDB's cursor. Entries it returns point into the map and stay valid until the cursor
/// moves or the transaction ends.
public struct LMDBCursor: Cursor {
    let handle: OpaquePointer
    /// The database this cursor walks.
    public let database: Database

    /// The first entry in key order.
    public func first() throws -> CursorEntry? { try move(MDB_FIRST) }
    /// The last entry in key order.
    public func last() throws -> CursorEntry? { try move(MDB_LAST) }
    /// The entry after the current one.
    public func next() throws -> CursorEntry? { try move(MDB_NEXT) }
    /// The entry before the current one.
    public func previous() throws -> CursorEntry? { try move(MDB_PREV) }

    /// The first entry whose key is at least `key`.
    public func seek(atLeast key: [UInt8]) throws -> CursorEntry? {
        try withMDBValue(key) { keyValue in try move(MDB_SET_RANGE, key: &keyValue) }
    }

    private func move(_ operation: MDB_cursor_op) throws -> CursorEntry? {
        var key = MDB_val()
        return try move(operation, key: &key)
    }

    private func move(_ operation: MDB_cursor_op, key: inout MDB_val) throws -> CursorEntry? {
        var value = MDB_val()
        let code = mdb_cursor_get(handle, &key, &value, operation)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "move cursor on \(database.name)")
        return CursorEntry(
            key: UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
            value: UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }
}
