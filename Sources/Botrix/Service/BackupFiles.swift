import Foundation

#if canImport(CFiles)
    import CFiles
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The files a backup makes beside `DEST`: `DEST.partial` (the copy being built, with its
/// LMDB lock file), `DEST.new` and `DEST.new-keyring` (the finished copy and its keyring,
/// before they are renamed to `DEST` and `DEST-keyring`).
enum BackupFiles {
    /// `DEST.partial`, held for the whole backup: its owner makes the other `DEST.*` files,
    /// and no other backup to `DEST` can start.
    final class Claim: Sendable {
        let working: String
        private let descriptor: Int32

        init(working: String, descriptor: Int32) {
            self.working = working
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }
    }

    /// The names a backup to `destination` makes before it is done.
    static func names(_ destination: String) -> [String] {
        let working = destination + ".partial"
        let pending = destination + ".new"
        return [working, working + "-lock", pending, pending + "-lock", pending + "-keyring"]
    }

    /// Creates `DEST.partial` (exclusively, never through a link, mode 0600) and holds a lock
    /// on it (`flock`) until the claim is released; `owned` adopts it. Refused when any of the
    /// backup's names exists: held by a running backup ("wait"), left by a stopped one or by
    /// anyone else ("remove"). Nothing that exists is ever emptied or removed here: a file
    /// of that name may be someone's (a finished backup named `X.partial`).
    static func claim(_ destination: String, owned: OwnedFiles) throws -> Claim {
        let working = destination + ".partial"
        let descriptor = open(working, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            guard code == EEXIST || code == ELOOP else {
                throw BackupFailure(description: "cannot create \(working): \(String(cString: strerror(code)))")
            }
            if isLockedByAnother(working) {
                throw BackupFailure(
                    description: "another backup to \(destination) is running (it holds \(working)): wait for it to end"
                )
            }
            throw leftovers(destination)
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {  // another opened it first and locked it
            close(descriptor)
            throw BackupFailure(
                description: "another backup to \(destination) is running (it holds \(working)): wait for it to end")
        }
        owned.adopt(working)
        let claim = Claim(working: working, descriptor: descriptor)
        if names(destination).dropFirst().contains(where: exists) {
            owned.removeAll()
            throw leftovers(destination)
        }
        return claim
    }

    /// What to say when `DEST.*` names are there and no backup holds them.
    private static func leftovers(_ destination: String) -> BackupFailure {
        let found = names(destination).filter(exists).map { URL(fileURLWithPath: $0).lastPathComponent }
        return BackupFailure(
            description: "\(found.joined(separator: ", ")) beside \(destination): a backup to it was stopped, or "
                + "another program made them; remove them, or choose another name")
    }

    /// Whether a process holds an `flock` on `path` (a regular file opened without following
    /// a link); false for anything else.
    private static func isLockedByAnother(_ path: String) -> Bool {
        var named = stat()
        // Opened only when a plain file: opening a FIFO would release a writer waiting on it.
        guard lstat(path, &named) == 0, (named.st_mode & S_IFMT) == S_IFREG else { return false }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return false }
        return flock(descriptor, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }

    /// Whether anything has the name `path` (a dangling link too).
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// Gives the finished file at `from` the name `to`, never over an existing file:
    /// `renameat2(RENAME_NOREPLACE)`, or where the file system cannot promise that, a hard
    /// link (refused when `to` exists) and the old name removed. Where it can do neither, the
    /// backup fails rather than risk another program's file.
    static func place(_ from: String, at to: String) throws {
        if botrix_rename_noreplace(from, to) == 0 { return }
        var code = errno
        var neither = false
        if code == EINVAL || code == ENOSYS {
            if link(from, to) == 0 {
                if unlink(from) == 0 { return }
                let failed = errno
                unlink(to)  // the link just made: the file keeps one name, `from`
                throw BackupFailure(
                    description: "cannot name the copy \(to): \(String(cString: strerror(failed))) removing \(from)")
            }
            code = errno
            neither = code == EPERM || code == EOPNOTSUPP
        }
        let reason = String(cString: strerror(code))
        throw BackupFailure(
            description: code == EEXIST
                ? "\(to) appeared while the backup ran: the copy was not put in its place"
                : neither
                    ? "cannot name the copy \(to): this file system can neither rename without replacing nor link "
                        + "(\(reason)); choose a folder on another file system"
                    : "cannot name the copy \(to): \(reason)")
    }
}

/// Files a backup made, each removed only while its name still refers to the file it made
/// (device and inode as adopted): a file another program put at that name since is left.
/// Never a folder, never recursively.
final class OwnedFiles {
    private var files: [(path: String, device: UInt64, inode: UInt64)] = []

    /// Records what `path` names now, if anything.
    func adopt(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        files.append((path, UInt64(status.st_dev), UInt64(status.st_ino)))
    }

    /// The file adopted at `from` now has the name `to` (moved by this backup).
    func moved(_ from: String, to: String) {
        for index in files.indices where files[index].path == from { files[index].path = to }
    }

    /// Removes the file adopted at `path` (if it is still the one adopted) and forgets it.
    func remove(_ path: String) {
        for file in files where file.path == path { Self.unlinkIfSame(file) }
        files.removeAll { $0.path == path }
    }

    /// Forgets `path`: it is the caller's to keep.
    func release(_ path: String) { files.removeAll { $0.path == path } }

    /// Removes every file adopted, newest first.
    func removeAll() {
        for file in files.reversed() { Self.unlinkIfSame(file) }
        files = []
    }

    private static func unlinkIfSame(_ file: (path: String, device: UInt64, inode: UInt64)) {
        var status = stat()
        guard lstat(file.path, &status) == 0, UInt64(status.st_dev) == file.device, UInt64(status.st_ino) == file.inode,
            (status.st_mode & S_IFMT) != S_IFDIR
        else { return }
        unlink(file.path)
    }
}
