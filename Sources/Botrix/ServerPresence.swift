import Foundation
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// Marks a data file as served: `botrix serve` holds an exclusive `flock` on
/// `<file>-serve.lock` (with its pid inside) for as long as it runs, so a second server
/// refuses to start and write commands can say what they will do beside it. The lock
/// dies with the process, even on SIGKILL. The file's second line, `exchange`, says the
/// server follows an online rebuild's exchange (``followsExchanges(of:)``); servers from
/// before the exchange wrote only the pid.
public final class ServerPresence: @unchecked Sendable {
    private let descriptor: Int32

    /// Takes the lock; throws when another process holds it.
    public init(dataFile: String) throws {
        let path = Self.lockPath(dataFile)
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw ServerPresenceError.cannotOpen(path: path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let pid = Self.lines(in: fd).first.flatMap { Int32($0) }
            close(fd)
            throw ServerPresenceError.alreadyServed(path: dataFile, pid: pid)
        }
        // Written over the old content, then cut to length: a reader never finds it empty.
        let text = "\(getpid())\n\(Self.exchangeLine)\n"
        let length = text.utf8.count
        _ = text.withCString { pwrite(fd, $0, length, 0) }
        ftruncate(fd, off_t(length))
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The pid of the server running on `dataFile`, or nil when none is.
    public static func server(of dataFile: String) -> Int32? {
        heldLockLines(of: dataFile).map { lines in lines.first.flatMap { Int32($0) } ?? -1 }
    }

    /// The line a server that follows exchanges writes after its pid.
    static let exchangeLine = "exchange"

    /// Whether the server running on `dataFile` reads the projections an online rebuild
    /// exchanges in (nil when no server runs). A server built before the exchange keeps
    /// reading the databases it opened, which the exchange retires: an online rebuild beside
    /// it would leave it serving stale rows, so `botrix rebuild` refuses.
    public static func followsExchanges(of dataFile: String) -> Bool? {
        heldLockLines(of: dataFile).map { $0.dropFirst().contains(exchangeLine) }
    }

    /// The lines of `dataFile`'s serve lock while a server holds it, else nil.
    private static func heldLockLines(of dataFile: String) -> [String]? {
        let fd = open(lockPath(dataFile), O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return lines(in: fd)
    }

    static func lockPath(_ dataFile: String) -> String {
        // Keyed on the path as given, a second server started on the real path ran beside
        // one started through a link, and `botrix rebuild` saw no server to pause for.
        DataFilePath.canonical(dataFile) + "-serve.lock"
    }

    /// The lock file's lines, trimmed (it holds a pid and a word: 64 bytes is plenty).
    private static func lines(in fd: Int32) -> [String] {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = pread(fd, &buffer, 63, 0)
        guard count > 0 else { return [] }
        return String(decoding: buffer[0..<count], as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
    }
}

/// Why a server could not take a data file.
public enum ServerPresenceError: Error, CustomStringConvertible {
    case alreadyServed(path: String, pid: Int32?)
    case cannotOpen(path: String)

    public var description: String {
        switch self {
        case .alreadyServed(let path, let pid):
            return
                "another botrix serve\(pid.map { " (pid \($0))" } ?? "") is already serving \(path): stop it or use another DB_PATH"
        case .cannotOpen(let path):
            return "cannot create \(path): check the folder's permissions"
        }
    }
}
