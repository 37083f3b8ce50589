import Foundation
import LMDB
public import Storage

/// The one place that names a storage backend: it turns ``StorageOptions`` into an engine.
/// Everything above the seam asks here and gets `any StorageEngine`; today every store is
/// an LMDB file, and a second backend (PostgreSQL, chosen by a URL) is added here alone.
public enum StorageBackends {
    /// Opens (creating when writable) the store at `options.path`, then runs `prepare` on it
    /// (the event log opening its databases). A store this call began to create is removed
    /// again when opening or `prepare` fails (a full disk), so that the next start, once
    /// space is freed, creates it afresh instead of refusing a stub.
    /// - Throws: ``StorageOpenError`` naming the file, the cause and the fix for a store that
    ///   cannot be opened; errors of `prepare` unchanged.
    public static func open<T>(_ options: StorageOptions, prepare: (any StorageEngine) throws -> T) throws -> T {
        try LMDBFiles.preflight(options)
        let existed = FileManager.default.fileExists(atPath: options.path)
        let lockExisted = FileManager.default.fileExists(atPath: options.path + "-lock")
        do {
            return try prepare(try Environment(options))
        } catch {
            // Only what this call created, and only plain files: never a folder in the way.
            if !existed && !options.readOnly {
                removeFileIfRegular(options.path)
                if !lockExisted { removeFileIfRegular(options.path + "-lock") }
            }
            throw error is LMDBError ? LMDBFiles.explaining(error, path: options.path) : error
        }
    }

    /// Unlinks `path` when it is a regular file (never a folder, never recursively).
    private static func removeFileIfRegular(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return }
        unlink(path)
    }

    /// Throws ``StorageOpenError/missing(path:)`` when no store is at `path`, or says why
    /// it cannot be seen (a folder on the way the user may not enter).
    public static func requireExisting(_ path: String) throws {
        try LMDBFiles.requireExisting(path)
    }
}
