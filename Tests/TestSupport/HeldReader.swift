public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process (`CrashWriter --hold-read PATH`) that opens an LMDB file, begins a read
/// transaction and holds it until killed: a stand-in for `botrix events | less` left open
/// or a CLI killed mid-read.
public final class HeldReader: @unchecked Sendable {
    public let process = Process()

    /// Starts the child and returns once its read transaction is open.
    public init(helper: String, path: String) throws {
        process.executableURL = URL(fileURLWithPath: helper)
        process.arguments = ["--hold-read", path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: seen, as: UTF8.self).contains("holding"), Date() < deadline, process.isRunning {
            seen.append(out.fileHandleForReading.availableData)
        }
        guard String(decoding: seen, as: UTF8.self).contains("holding") else {
            throw ServerStartFailure(log: "the reader did not start: \(String(decoding: seen, as: UTF8.self))")
        }
    }

    /// SIGKILL: the process dies inside its read transaction, leaving its slot behind.
    public func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }
}
