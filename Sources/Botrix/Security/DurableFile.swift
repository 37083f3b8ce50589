import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Small POSIX file operations for key material, each durable before it returns.
///
/// Foundation's `createFile` and `write(to:options: .atomic)` neither refuse an existing
/// file nor fsync the file and its folder; key files need both: a key file must never be
/// replaced by accident, and a keyring rewrite that erases an account must be on disk
/// before the deletion is acknowledged.
public enum DurableFile {
    /// Key files and keyrings are a few hundred bytes; nothing larger is read.
    public static let maximumSize = 64 * 1024

    /// The whole file, or nil when nothing is at `path` (ENOENT). Any other failure
    /// (a folder at that path, no permission, an I/O error) throws with its cause, and so
    /// does anything but a regular file of at most ``maximumSize`` bytes: `/dev/zero` or a
    /// FIFO given as a key file must not fill memory or hang (O_NONBLOCK: a FIFO's open
    /// would otherwise wait for a writer).
    public static func read(_ path: String) throws(FileProblem) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileProblem(operation: "read", path: path, code: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileProblem(operation: "read", path: path, code: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FileProblem(operation: "read", path: path, code: EISDIR) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileProblem(operation: "read", path: path, code: EINVAL, explanation: "it is not a regular file")
        }
        guard Int(info.st_size) <= maximumSize else {
            throw FileProblem(
                operation: "read", path: path, code: EFBIG,
                explanation: "it is larger than \(maximumSize) bytes, too large for a key file")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = readChunk(fd, &buffer)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileProblem(operation: "read", path: path, code: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }

    /// Creates `path` with `bytes` and mode 0600, refusing when anything already exists
    /// there (`O_CREAT | O_EXCL`, which also refuses to follow a planted symlink); fsyncs
    /// the file and its folder. A file whose folder could not be synced is removed again:
    /// nothing half made stays (a backup's keyring was left behind).
    public static func createExclusively(_ path: String, _ bytes: [UInt8]) throws(FileProblem) {
        try writeNew(path, bytes)
        do throws(FileProblem) {
            try syncFolder(of: path)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Replaces `path` with `bytes` atomically: a temporary file beside it (created
    /// exclusively, mode 0600, fsynced), renamed over it, then the folder fsynced. A reader
    /// sees the old or the new content, never a mix; the old content becomes an unlinked
    /// inode that no later copy of the folder contains.
    public static func replace(_ path: String, _ bytes: [UInt8]) throws(FileProblem) {
        let temporary = temporaryPath(for: path)
        // Only one writer replaces a given file (the store's writer thread, or a tool that
        // holds the serve lock), so a temporary file here is a leftover of a crash.
        if unlink(temporary) != 0 && errno != ENOENT {
            throw FileProblem(operation: "remove", path: temporary, code: errno)
        }
        try writeNew(temporary, bytes)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw FileProblem(operation: "rename \(temporary) over", path: path, code: code)
        }
        try syncFolder(of: path)
    }

    /// The name ``replace(_:_:)`` writes before renaming.
    public static func temporaryPath(for path: String) -> String { path + ".tmp" }

    /// Removes a leftover temporary file of ``replace(_:_:)`` (it may hold old key
    /// material); fsyncs the folder when there was one.
    public static func removeLeftover(of path: String) throws(FileProblem) {
        let temporary = temporaryPath(for: path)
        if unlink(temporary) == 0 {
            try syncFolder(of: path)
        } else if errno != ENOENT {
            throw FileProblem(operation: "remove", path: temporary, code: errno)
        }
    }

    /// fsyncs an existing file (a backup copy before it is reported done).
    public static func sync(_ path: String) throws(FileProblem) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileProblem(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileProblem(operation: "fsync", path: path, code: errno) }
    }

    /// fsyncs the folder holding `path`, so a creation, rename or removal in it is durable.
    public static func syncFolder(of path: String) throws(FileProblem) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileProblem(operation: "open folder", path: folder, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileProblem(operation: "fsync folder", path: folder, code: errno) }
    }

    private static func writeNew(_ path: String, _ bytes: [UInt8]) throws(FileProblem) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileProblem(operation: "create", path: path, code: errno) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(path)
                throw FileProblem(operation: "write", path: path, code: code)
            }
            written += count
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            unlink(path)
            throw FileProblem(operation: "fsync", path: path, code: code)
        }
        close(fd)
    }
}

/// One `read(2)` into `buffer`; outside ``DurableFile`` so `read` means the system call.
private func readChunk(_ fd: Int32, _ buffer: inout [UInt8]) -> Int {
    buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
}

/// A failed file operation with the system's reason (`strerror`).
public struct FileProblem: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32
    /// Words that say more than the system's for ``code`` (a FIFO given as a key file).
    public var explanation: String? = nil

    /// The system's words for ``code`` (e.g. "No space left on device"), or ``explanation``.
    public var reason: String { explanation ?? String(cString: strerror(code)) }
    /// True when the path already existed (an exclusive create refused).
    public var alreadyExists: Bool { code == EEXIST }
    public var description: String { "cannot \(operation) \(path): \(reason)" }
}
