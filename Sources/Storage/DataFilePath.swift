#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One name for a data file, whichever path reached it: symbolic links resolved, and for a
/// file not made yet its folder's real path plus its name. The LMDB backend registers each
/// open file under it (LMDB forbids opening one file twice in a process), and a server's
/// presence lock is named after it, so that a server started through a link and a command
/// given the file itself find one lock.
public enum DataFilePath {
    /// The real path of the file, or of its folder plus its name when it does not exist yet.
    public static func canonical(_ path: String) -> String {
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
