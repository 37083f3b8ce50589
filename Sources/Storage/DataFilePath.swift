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
    /// A link to a file not made yet is followed to where the file will be made: opened
    /// through the link, LMDB creates the file at the link's target but its lock file
    /// beside the link, so a second process given the target used a second lock table on
    /// the same file, and the two corrupted it.
    public static func canonical(_ path: String) -> String {
        canonical(path, linksLeft: 40)
    }

    private static func canonical(_ path: String, linksLeft: Int) -> String {
        if let resolved = realPath(path) { return resolved }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        if linksLeft > 0, let target = linkTarget(path) {
            let next = target.hasPrefix("/") ? target : folder + "/" + target
            return canonical(next, linksLeft: linksLeft - 1)
        }
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return (realPath(folder.isEmpty ? "/" : folder) ?? folder) + "/" + name
    }

    /// What the symbolic link at `path` points to, or nil when `path` is not a link.
    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
