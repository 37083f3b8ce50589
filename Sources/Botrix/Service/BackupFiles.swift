import Foundation

#if canImport(CFiles)
    import CFiles
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Where a backup makes its files: a private folder `DEST.partial` (mode 0700, held with
/// `flock`) beside `DEST`, holding `work.mdb` (the copy being built) and `copy.mdb` with
/// `copy.mdb-keyring` (the finished copy and its keyring, before they are renamed to `DEST`
/// and `DEST-keyring`). In a folder of its own no other user can put a link or a file at a
/// name the backup or LMDB opens (a symlink renamed over a `DEST.partial` file had the whole
/// copy written into the file it named).
enum BackupFiles {
    /// `DEST.partial`, held for the whole backup: its owner makes the files in it, and no
    /// other backup to `DEST` can start.
    final class Claim: Sendable {
        let folder: String
        private let descriptor: Int32

        init(folder: String, descriptor: Int32) {
            self.folder = folder
            self.descriptor = descriptor
        }

        /// The copy being built.
        var working: String { folder + "/work.mdb" }
        /// The finished copy, compacted, before it is renamed to `DEST`.
        var pending: String { folder + "/copy.mdb" }

        /// Removes the backup's files still in the folder, through the held descriptor (the
        /// folder is private: what is in it at these names is the backup's, made or half made).
        func emptyFolder() {
            for name in ["work.mdb", "copy.mdb", "copy.mdb-keyring"] { unlinkat(descriptor, name, 0) }
        }

        deinit { close(descriptor) }
    }

    /// Makes the folder `DEST.partial` and holds a lock on it (`flock`) until the claim is
    /// released; `owned` adopts it. The folder is made under a random name (`mkdtemp`, 0700),
    /// locked, and only then renamed to `DEST.partial` (never over anything), so it never
    /// appears unlocked: a second backup to `DEST` always hears "wait". Refused when the name
    /// exists and no backup holds it ("remove"): nothing that exists is emptied or removed
    /// here. `destination` comes from ``checkedDestination(_:)``.
    static func claim(_ destination: String, owned: OwnedFiles, attempt: Int = 1) throws -> Claim {
        let folder = destination + ".partial"
        var template = Array((folder + "-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BackupFailure(
                description: "cannot create a folder beside \(destination): \(String(cString: strerror(errno)))")
        }
        let temporary = String(cString: made)
        let descriptor = open(temporary, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            rmdir(temporary)
            throw BackupFailure(description: "cannot lock \(temporary): \(String(cString: strerror(errno)))")
        }
        guard botrix_rename_noreplace(temporary, folder) == 0 else {
            let code = errno
            close(descriptor)
            rmdir(temporary)
            if code != EEXIST {
                throw BackupFailure(description: "cannot create \(folder): \(String(cString: strerror(code)))")
            }
            // The backup that held it ended in between: try again (a few times at most).
            if !exists(folder) && attempt < 3 { return try claim(destination, owned: owned, attempt: attempt + 1) }
            if isLockedByAnother(folder) {
                throw BackupFailure(
                    description: "another backup to \(destination) is running (it holds \(folder)): wait for it to end")
            }
            throw BackupFailure(
                description: "\(folder) is there: a backup to \(destination) was stopped, or another program made it; "
                    + "remove it (rm -r), or choose another name")
        }
        owned.adopt(folder)
        var held = stat()
        var named = stat()
        guard fstat(descriptor, &held) == 0, lstat(folder, &named) == 0, held.st_ino == named.st_ino,
            held.st_dev == named.st_dev
        else {
            close(descriptor)
            owned.removeAll()
            throw BackupFailure(description: "\(folder) changed while it was being made: try again")
        }
        return Claim(folder: folder, descriptor: descriptor)
    }

    /// `destination` with its folder resolved (`realpath`), for every later step to use: a
    /// link on the way is followed once, here, and not again after someone changed it.
    /// Refused when another user can rename entries in that folder or any folder above it
    /// (owned by someone other than this user or root, or writable by group or others
    /// without the sticky bit): they could swap the backup's folder, or one above it, for
    /// theirs between its steps and have its copy written where they choose.
    static func checkedDestination(_ destination: String) throws -> String {
        // Split as written: `URL` would drop `lnk/..` as text, where the kernel follows `lnk` first.
        let slash = destination.lastIndex(of: "/")
        let name = String(slash.map { destination[destination.index(after: $0)...] } ?? destination[...])
        let written = slash.map { String(destination[..<$0]) } ?? "."
        guard !name.isEmpty, name != ".", name != ".." else {
            throw BackupFailure(description: "\(destination) does not name a file: give the copy's file name")
        }
        guard let resolved = realpath(written.isEmpty ? "/" : written, nil) else {
            throw BackupFailure(
                description: "cannot use the folder of \(destination): \(String(cString: strerror(errno)))")
        }
        let folder = String(cString: resolved)
        free(resolved)
        var path = folder
        while true {
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw BackupFailure(description: "cannot use \(path): \(String(cString: strerror(errno)))")
            }
            let owner = status.st_uid
            let shared = (status.st_mode & 0o022) != 0 && (status.st_mode & S_ISVTX) == 0
            guard (owner == geteuid() || owner == 0) && !shared else {
                throw BackupFailure(
                    description: "another user can rename files in \(path) (owner uid \(owner), mode "
                        + "\(String(status.st_mode & 0o7777, radix: 8))) and so swap a backup's files for theirs: "
                        + "choose a folder only you (or root) can change, all the way up")
            }
            if path == "/" { break }
            path = URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
        return folder == "/" ? "/" + name : folder + "/" + name
    }

    /// Whether a process holds an `flock` on the folder `path` (not followed through a
    /// link); false for anything else.
    private static func isLockedByAnother(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
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
/// A folder only once empty, never recursively.
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
        guard lstat(file.path, &status) == 0, UInt64(status.st_dev) == file.device, UInt64(status.st_ino) == file.inode
        else { return }
        // A folder goes only once empty: never recursively.
        if (status.st_mode & S_IFMT) == S_IFDIR { rmdir(file.path) } else { unlink(file.path) }
    }
}
