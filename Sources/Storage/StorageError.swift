/// An error that means the storage failed, not the request: the writer reports it in its
/// status and the API answers 507 (out of space) or 503. Every backend's errors conform;
/// a layer above may add its own (a key file it could not write).
public protocol StorageFailure: Error {
    /// Non-nil when this error is a storage failure: whether it was a lack of space, and
    /// the failure in words safe for any caller (no paths).
    var storageFailure: (outOfSpace: Bool, summary: String)? { get }
}

/// A backend's own error, classified so that the layers above can act on it without
/// knowing the backend: retry after freeing space, refuse writes until a restart, or
/// treat a missing database as "not created yet".
public protocol StorageError: StorageFailure, CustomStringConvertible, Sendable {
    /// No space: the disk, a quota, or the store's configured size limit.
    var isOutOfSpace: Bool { get }
    /// The backend gave up on the store (LMDB's `MDB_PANIC`): writes fail until the
    /// process opens it again.
    var isFatal: Bool { get }
    /// A read-only open asked for a database the store does not have.
    var isMissingDatabase: Bool { get }
    /// The failure in a few words, without paths: safe to show to any caller.
    var summary: String { get }
}

extension StorageError {
    public var storageFailure: (outOfSpace: Bool, summary: String)? { (isOutOfSpace, summary) }
}
