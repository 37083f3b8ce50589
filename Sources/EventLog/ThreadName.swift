import Foundation

/// Names the calling thread for the operating system: what `top -H`, `ps -L`, `perf` and
/// `/proc/PID/task/*/comm` show, so an operator can tell the writer or a rebuild from
/// request threads. On Linux, Foundation's `Thread.name` does not reach the system thread
/// and `pthread_setname_np` is not imported into Swift; the kernel takes the name from
/// `/proc/thread-self/comm` instead (at most 15 bytes; longer names are cut).
public enum ThreadName {
    /// Names the thread that calls it. Best effort: a system without `/proc` keeps the old name.
    public static func set(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// The calling thread's name as the system has it.
    public static var current: String {
        let text = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .newlines)
    }
}
