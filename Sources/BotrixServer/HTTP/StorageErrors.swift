import EventLog
import HTTPTypes
import Storage

/// Failures of the write path that are not the request's fault. Nothing was written in
/// any of them; the answer says whether and when to retry:
/// - the disk or the map is full: `507 Insufficient Storage` (retry once space is freed);
/// - LMDB gave up on the file (`MDB_PANIC`): `503`, writes refused until a restart;
/// - too many writes waiting: `503` with a short `Retry-After`;
/// - the writer is stopping, or another storage error (EIO): `503` with `Retry-After`.
/// The detail never carries LMDB's raw message (logged with the request id instead).
protocol EventLogErrorBridge: Error {
    var storageProblem: Problem? { get }
}

extension EventLogError: EventLogErrorBridge {
    var storageProblem: Problem? {
        switch self {
        case .storage(let error): Problem.storage(error)
        case .writerStopped:
            Problem(
                status: .serviceUnavailable, slug: "stopping", title: "Server stopping",
                detail: "the server is shutting down; nothing was written: retry against the next instance",
                headers: [.retryAfter: "5"])
        case .overloaded(_, let limit):
            Problem(
                status: .serviceUnavailable, slug: "overloaded", title: "Too many writes waiting",
                detail: "more than \(limit) writes are waiting to be committed; nothing was written: retry shortly",
                headers: [.retryAfter: "1"])
        case .corruptRecord, .unsupportedFormat, .unsupportedLogFormat:
            // The stored data is at fault, not the request: never a 4xx.
            .dataDamaged
        default: nil
        }
    }
}

extension Problem {
    /// The answer to a failure of the storage backend, whichever it is.
    static func storage(_ error: any StorageError) -> Problem {
        if error.isOutOfSpace { return .insufficientStorage }
        if error.isFatal { return .storageFailed }
        return .storageUnavailable
    }

    /// 507: the disk or the map is full; nothing was written.
    static let insufficientStorage = Problem(
        status: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"),
        slug: "insufficient-storage", title: "Insufficient storage",
        detail:
            "the disk (or the data file's map limit) is full; nothing was written. Writes succeed again once space is freed",
        headers: [.retryAfter: "30"])

    /// 503: LMDB gave up on the file; writes are refused until a restart.
    static let storageFailed = Problem(
        status: .serviceUnavailable, slug: "storage-failed", title: "Storage failed",
        detail: "the data file hit a fatal storage error; writes are refused until the server restarts",
        headers: [.retryAfter: "60"])

    /// 500: a stored record cannot be read (`botrix verify` says which); the request is fine.
    static let dataDamaged = Problem(
        status: .internalServerError, slug: "data-damaged", title: "Stored data unreadable",
        detail:
            "a stored record could not be read; the operator should run `botrix verify` (the request id is in the logs with the cause)"
    )

    /// 503: another storage error (EIO); nothing was written.
    static let storageUnavailable = Problem(
        status: .serviceUnavailable, slug: "storage-unavailable", title: "Storage unavailable",
        detail: "a storage error stopped the write; nothing was written: retry later", headers: [.retryAfter: "5"])
}
