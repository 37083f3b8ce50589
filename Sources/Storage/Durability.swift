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
}
