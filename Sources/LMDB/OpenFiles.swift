import Storage
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The set of LMDB files open in this process. LMDB's documentation forbids opening the
/// same file twice in one process (the second environment would break the first's
/// locks), so `Environment` registers its canonical path here and refuses a duplicate.
enum OpenFiles {
    private static let paths = Mutex<Set<String>>([])

    static func register(_ path: String) throws -> String {
        let canonical = DataFilePath.canonical(path)
        let inserted = paths.withLock { $0.insert(canonical).inserted }
        guard inserted else { throw LMDBError.alreadyOpen(path: canonical) }
        return canonical
    }

    static func unregister(_ canonical: String) {
        _ = paths.withLock { $0.remove(canonical) }
    }
}
