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
public enum StandardOutput {
    /// Writes every byte, or ends the process (0 on a closed pipe, 1 on any other error).
    public static func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EPIPE { exit(0) }  // the reader is gone: nothing more to say
                let message = "botrix: cannot write to standard output: \(String(cString: strerror(code)))\n"
                _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
                exit(1)
            }
            offset += written
        }
    }

    /// Writes the text's UTF-8 bytes.
    public static func write(_ text: String) { write(Array(text.utf8)) }
}

/// Prints a line to standard output through ``StandardOutput``: a report redirected to a
/// full disk (`botrix verify > report`) must fail loudly, not exit 0 with nothing written.
public func say(_ text: String) {
    StandardOutput.write(text + "\n")
}
