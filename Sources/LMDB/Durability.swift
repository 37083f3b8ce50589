import CLMDB

/// How hard a commit works to reach the disk; trades safety after a power cut for speed.
///
/// `full` (the default) fsyncs data and meta page on every commit: an acknowledged write
/// survives a crash of the process *and* of the machine. `nometasync` skips the meta-page
/// sync (the last commit may be lost on power failure, never corrupted). `nosync` leaves
/// flushing to the OS: survives a process crash, not a power cut.
public enum Durability: String, Sendable, CaseIterable, Codable {
    case full
    case nometasync
    case nosync

    var flags: UInt32 {
        switch self {
        case .full: return 0
        case .nometasync: return UInt32(MDB_NOMETASYNC)
        case .nosync: return UInt32(MDB_NOSYNC)
        }
    }
}
