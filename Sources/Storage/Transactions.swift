/// The largest key every backend must accept (LMDB's default build limit). Keys above the
/// seam are designed to fit: a longer one is refused with the backend's invalid-key error.
public let maximumKeySize = 511

/// Reads inside a transaction: a snapshot that later commits do not change.
///
/// Values handed to closures may point into the backend's memory (LMDB's map) and are
/// valid only inside the closure: copy what you keep. A value of this type is valid only
/// inside the closure that received it.
public protocol TransactionReading {
    /// Calls `body` with the value at `key` in place (no copy), or nil when absent.
    func withValue<R>(
        _ database: Database, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R

    /// Number of entries in `database`, as this snapshot sees it.
    func count(_ database: Database) throws -> Int

    /// Bytes of storage `database` occupies in this snapshot (its pages, for LMDB): how
    /// much room a copy of it needs, without reading it.
    func storedBytes(_ database: Database) throws -> Int

    /// Opens a cursor over `database` in key order (bytewise, unsigned) for `body`.
    func withCursor<R>(_ database: Database, _ body: (any Cursor) throws -> R) throws -> R
}

extension TransactionReading {
    /// A copy of the value at `key`, or nil.
    public func get(_ database: Database, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(database, key) { $0.map { Array($0) } }
    }

    /// Calls `body` with every row of `database` as the backend holds it (valid during the
    /// call only), in key order, and returns how many there were: what copying a database
    /// into another file (`.append` puts of each entry) needs.
    @discardableResult
    public func forEachEntry(of database: Database, _ body: (CursorEntry) throws -> Void) throws -> Int {
        try withCursor(database) { cursor in
            var rows = 0
            var entry = try cursor.first()
            while let row = entry {
                try body(row)
                rows += 1
                entry = try cursor.next()
            }
            return rows
        }
    }
}

/// How a put treats the key it writes.
public struct PutOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Fail (with the backend's key-exists error) instead of replacing an existing key.
    public static let noOverwrite = PutOptions(rawValue: 1)
    /// A promise that the key sorts after every existing key: a backend may skip the
    /// search (LMDB's `MDB_APPEND`); a broken promise fails the put.
    public static let append = PutOptions(rawValue: 2)
}

/// The one write transaction: everything written in it commits together or not at all.
///
/// Only one exists at a time per store (writes are serialized); it also reads, and sees
/// its own writes.
public protocol WriteTransaction: TransactionReading {
    /// Stores `value` at `key`.
    func put(_ database: Database, _ key: [UInt8], _ value: [UInt8], options: PutOptions) throws

    /// Runs `body` with an ``Appender`` for `database`, which writes each row after the
    /// last without searching the tree for its place, as a put does. Copying a sorted
    /// database (an online rebuild's move into the partners; a backup) is such a walk.
    func withAppender<R>(_ database: Database, _ body: (any Appender) throws -> R) throws -> R

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    func delete(_ database: Database, _ key: [UInt8]) throws -> Bool

    /// Empties `database` (its handle stays valid), as a rebuild needs.
    func clear(_ database: Database) throws

    /// Removes the first `count` rows of `database` in key order (fewer when it holds fewer)
    /// and returns how many went: emptying a large database over many short transactions,
    /// where ``clear(_:)`` would hold the write lock for the whole of it.
    func removeFirst(_ count: Int, from database: Database) throws -> Int

    /// Gives `a` the rows of `b` and `b` the rows of `a`, for the rest of this transaction
    /// and for every transaction after its commit, at a cost that does not grow with the
    /// rows (LMDB records which of its databases holds each name's rows; a SQL backend
    /// renames the two tables). An online rebuild fills a partner database beside each live
    /// one while the server serves, then exchanges them in one short transaction.
    func exchange(_ a: Database, _ b: Database) throws

    /// Runs `body` in a child transaction: what it writes joins this transaction when it
    /// returns and vanishes when it throws, leaving everything else here untouched (a SQL
    /// backend uses a savepoint). The group-commit writer runs each command in one when a
    /// command of the batch failed after writing.
    func nested<R>(_ body: (any WriteTransaction) throws -> R) throws -> R
}

extension WriteTransaction {
    /// Stores `value` at `key`, replacing what was there.
    public func put(_ database: Database, _ key: [UInt8], _ value: [UInt8]) throws {
        try put(database, key, value, options: [])
    }
}

/// Writes rows at the end of one database through one position kept from row to row
/// (see ``WriteTransaction/withAppender(_:_:)``). Valid only inside that call.
public protocol Appender {
    /// Stores a row after the last one: its key must sort after every key already in the
    /// database (the promise of ``PutOptions/append``), or the backend's key-exists error
    /// is thrown. Both buffers are read during the call only.
    func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws

    /// Stores a row after the last one whose value `fill` writes in place: the backend makes
    /// room for `count` bytes in the row and `fill` writes every one of them before it
    /// returns. The log encodes and hashes each record this way straight into its page (no
    /// buffer per record, no copy of it). The key is checked as ``append(key:value:)``
    /// checks it, and `fill` is not called when the row is refused.
    func append(key: UnsafeRawBufferPointer, reserving count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void)
        throws
}

extension Appender {
    /// Appends a row read from another database's cursor as it is.
    public func append(_ entry: CursorEntry) throws { try append(key: entry.key, value: entry.value) }
}

/// One key and value, borrowed from the backend: valid until the cursor moves or its
/// transaction ends.
public struct CursorEntry {
    public let key: UnsafeRawBufferPointer
    public let value: UnsafeRawBufferPointer
    /// For backends: an entry over memory the backend keeps alive until the next move.
    public init(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        self.key = key
        self.value = value
    }
    /// Copies of both, to keep after the cursor moves.
    public var copied: (key: [UInt8], value: [UInt8]) { (Array(key), Array(value)) }
}

/// A position in one database, moved in key order (bytewise, unsigned: big-endian
/// integers sort numerically). Range scans above the seam are a seek and then `next`.
public protocol Cursor {
    /// The first entry in key order.
    func first() throws -> CursorEntry?
    /// The last entry in key order.
    func last() throws -> CursorEntry?
    /// The entry after the current one.
    func next() throws -> CursorEntry?
    /// The entry before the current one.
    func previous() throws -> CursorEntry?
    /// The first entry whose key is at least `key`.
    func seek(atLeast key: [UInt8]) throws -> CursorEntry?
}

extension Cursor {
    /// The last entry whose key is at most `key`.
    public func seek(atMost key: [UInt8]) throws -> CursorEntry? {
        guard let entry = try seek(atLeast: key) else { return try last() }
        if entry.key.elementsEqual(key) { return entry }
        return try previous()
    }
}
