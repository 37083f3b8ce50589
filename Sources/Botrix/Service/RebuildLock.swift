import Foundation
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// One online rebuild of a data file at a time, across processes: every rebuild fills the
/// same partner databases of the live file (``PartnerTransfer``), so a second one would
/// empty what the first is filling. An exclusive `flock` on `<data file>-rebuild`, held for
/// the whole rebuild; the kernel lets go of it when the process dies, so a killed rebuild
/// never blocks the next. The file itself stays (removing a lock file races with a process
/// about to lock it).
public final class RebuildLock: @unchecked Sendable {
    /// Another rebuild of the same file holds the lock (or a server emptying what an
    /// interrupted one left, for a moment).
    public struct Busy: Error, CustomStringConvertible {
        /// The data file.
        public let path: String
        /// What the operator reads: who holds it and what to do.
        public var description: String {
            "another rebuild of \(path) is running, or a server is removing what an interrupted one left "
                + "(either holds \(path)-rebuild); wait for it to finish and run it again"
        }
    }

    private var descriptor: Int32

    /// Takes the lock, or throws ``Busy`` at once when another rebuild holds it. Named after
    /// the data file's real path (``DataFilePath/canonical(_:)``), as the server's presence
    /// lock is, so that two rebuilds reaching one file through different links meet here.
    public init(dataFile: String) throws {
        let path = DataFilePath.canonical(dataFile)
        descriptor = open(path + "-rebuild", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            throw FileProblem(operation: "open", path: path + "-rebuild", code: code)
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            descriptor = -1
            throw Busy(path: path)
        }
    }

    /// Lets go of the lock (also when this value is freed).
    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
