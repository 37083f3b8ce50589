public import Storage

/// A log error is a storage failure exactly when the storage beneath it failed.
extension EventLogError: StorageFailure {
    public var storageFailure: (outOfSpace: Bool, summary: String)? {
        if case .storage(let error) = self { return error.storageFailure }
        return nil
    }
}
