import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes to standard output with `write(2)`, for commands whose output is piped.
///
/// `botrix events | head` closes the pipe early. The process ignores SIGPIPE (see
/// `BotrixCommand.main`), so a write then fails with EPIPE, and this ends the command
/// quietly with status 0 — never inside a read transaction, since commands print only
/// after their read transaction ended. (Foundation's `FileHandle.write` would trap.)
enum StandardOutput {
    static func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                // EPIPE: the reader is gone; anything else: nowhere to report it either.
                exit(errno == EPIPE ? 0 : 1)
            }
            offset += written
        }
    }

    static func write(_ text: String) { write(Array(text.utf8)) }
}
