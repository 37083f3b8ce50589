public import Storage

/// Why an append or a read of the log failed, in words a caller can act on.
public enum EventLogError: Error, Equatable, CustomStringConvertible {
    /// The stream name is empty, too long, or holds a control character.
    case invalidStreamName(String, reason: String)
    /// The event type is empty, too long, or not made of `[A-Za-z0-9_.-]`.
    case invalidEventType(String)
    /// The event data is not a JSON object.
    case invalidEventData(reason: String)
    /// An append carried no events.
    case emptyAppend
    /// One encoded record is larger than the configured limit.
    case recordTooLarge(bytes: Int, limit: Int)
    /// The stream is not at the version the caller expected: someone else wrote first.
    case versionConflict(stream: String, expected: UInt64, actual: UInt64)
    /// A stored record has a format version this build cannot read.
    case unsupportedFormat(version: UInt8, sequence: UInt64)
    /// A stored record is shorter or longer than its own header says.
    case corruptRecord(sequence: UInt64, reason: String)
    /// The file was written by a newer Botrix with an unknown log format.
    case unsupportedLogFormat(found: UInt64, supported: UInt64)
    /// The writer has been shut down; no more appends are accepted.
    case writerStopped
    /// The storage layer failed; the whole batch was rolled back.
    case storage(any StorageError)
    /// Too many operations are waiting for the writer; nothing was queued. Retry later.
    case overloaded(queued: Int, limit: Int)

    /// Equal when the case and every associated value are equal; two storage failures are
    /// equal when they describe the same failure (backends' errors need not be Equatable).
    public static func == (lhs: EventLogError, rhs: EventLogError) -> Bool {
        switch (lhs, rhs) {
        case (.invalidStreamName(let a, let b), .invalidStreamName(let c, let d)): a == c && b == d
        case (.invalidEventType(let a), .invalidEventType(let b)): a == b
        case (.invalidEventData(let a), .invalidEventData(let b)): a == b
        case (.emptyAppend, .emptyAppend), (.writerStopped, .writerStopped):
            true
        case (.recordTooLarge(let a, let b), .recordTooLarge(let c, let d)): a == c && b == d
        case (.versionConflict(let a, let b, let c), .versionConflict(let d, let e, let f)): a == d && b == e && c == f
        case (.unsupportedFormat(let a, let b), .unsupportedFormat(let c, let d)): a == c && b == d
        case (.corruptRecord(let a, let b), .corruptRecord(let c, let d)): a == c && b == d
        case (.unsupportedLogFormat(let a, let b), .unsupportedLogFormat(let c, let d)): a == c && b == d
        case (.storage(let a), .storage(let b)): a.description == b.description
        case (.overloaded(let a, let b), .overloaded(let c, let d)): a == c && b == d
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidStreamName(let name, let reason):
            return "invalid stream name \"\(name)\": \(reason)"
        case .invalidEventType(let type):
            return "invalid event type \"\(type)\": use 1...100 characters of A-Z a-z 0-9 _ . -"
        case .invalidEventData(let reason):
            return "event data must be a JSON object: \(reason)"
        case .emptyAppend:
            return "an append needs at least one event"
        case .recordTooLarge(let bytes, let limit):
            return "the event record is \(bytes) bytes, over the limit of \(limit); store large payloads elsewhere"
        case .versionConflict(let stream, let expected, let actual):
            return
                "stream \(stream) is at version \(actual), not \(expected) as expected: reload it and retry"
        case .unsupportedFormat(let version, let sequence):
            return
                "event \(sequence) uses record format \(version), which this build cannot read: upgrade Botrix"
        case .corruptRecord(let sequence, let reason):
            return "event \(sequence) is damaged (\(reason)): run `botrix verify` and restore a backup"
        case .unsupportedLogFormat(let found, let supported):
            return
                "the log was written in format \(found); this build reads format \(supported): upgrade Botrix"
        case .writerStopped:
            return "the writer is shut down; the server is stopping"
        case .storage(let error):
            return "storage failed, nothing was written: \(error)"
        case .overloaded(let queued, let limit):
            return "the writer has \(queued) operations waiting (limit \(limit)); nothing was queued: retry later"
        }
    }
}
