/// Why a store could not be opened: always one line with the file, the cause and the fix.
public enum StorageOpenError: Error, CustomStringConvertible {
    /// A read-only open found nothing at `path`.
    case missing(path: String)
    /// The file exists (or should be created) but cannot be used.
    case cannotOpen(path: String, cause: String, fix: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "no Botrix data at \(path): check --db or DB_PATH (a server creates the file on first start)"
        case .cannotOpen(let path, let cause, let fix):
            return "cannot open \(path): \(cause); \(fix)"
        }
    }
}
