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
        let canonical = canonicalPath(path)
        let inserted = paths.withLock { $0.insert(canonical).inserted }
        guard inserted else { throw LMDBError.alreadyOpen(path: canonical) }
        return canonical
    }

    static func unregister(_ canonical: String) {
        _ = paths.withLock { $0.remove(canonical) }
    }

    /// The real path of the file, or of its folder plus its name when it does not exist yet.
    static func canonicalPath(_ path: String) -> String {
        if let resolved = realPath(path) { return resolved }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return (realPath(folder.isEmpty ? "/" : folder) ?? folder) + "/" + name
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
