public import LMDB

/// An error that means the storage failed, not the request: the writer reports it in its
/// status and the API answers 507 (out of space) or 503. LMDB's errors are; a layer above
/// may add its own (a key file it could not write).
public protocol StorageFailure: Error {
    /// Non-nil when this error is a storage failure: whether it was a lack of space, and
    /// the failure in words safe for any caller (no paths).
    var storageFailure: (outOfSpace: Bool, summary: String)? { get }
}

extension LMDBError: StorageFailure {
    public var storageFailure: (outOfSpace: Bool, summary: String)? { (isOutOfSpace, summary) }
}

extension EventLogError: StorageFailure {
    public var storageFailure: (outOfSpace: Bool, summary: String)? {
        if case .storage(let error) = self { return error.storageFailure }
        return nil
    }
}
