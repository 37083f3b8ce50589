import EventLog
import LMDB

/// Storage failures the API answers with 503 and `Retry-After`: the writer is stopping,
/// or LMDB failed (disk full, I/O). Nothing was written in either case.
protocol EventLogErrorBridge: Error {
    var isUnavailable: Bool { get }
}

extension EventLogError: EventLogErrorBridge {
    var isUnavailable: Bool {
        switch self {
        case .storage, .writerStopped: true
        default: false
        }
    }
}

extension LMDBError: EventLogErrorBridge {
    var isUnavailable: Bool { true }
}
