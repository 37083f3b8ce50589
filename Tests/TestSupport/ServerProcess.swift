import Dispatch
public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `botrix serve` as a child process on 127.0.0.1 and a free port, for tests that need a
/// real server (SSE, signals). Stops it on deinit if the test did not.
public final class ServerProcess: @unchecked Sendable {
    public let process = Process()
    public private(set) var port = 0
    private let errors = Pipe()
    private var collector: PipeCollector?

    /// - Parameter host: `--host`; nil leaves it to the server (tests that do must only
    ///   run servers that pick 127.0.0.1 themselves).
    public init(
        binary: String, database: String, environment: [String: String] = [:], host: String? = "127.0.0.1"
    ) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = (host.map { ["serve", "--host", $0] } ?? ["serve"]) + ["--port", "0", "--db", database]
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = "info"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Drain standard error all the time: a server logging into a full pipe would block.
        collector = PipeCollector(errors)
        let deadline = Date().addingTimeInterval(30)
        while port == 0 && Date() < deadline && process.isRunning {
            let text = log()
            if let range = text.range(of: "listening on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                port = Int(digits) ?? 0
            } else {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        guard port != 0 else {
            if process.isRunning { process.terminate() }
            throw ServerStartFailure(log: log())
        }
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Sends SIGTERM and waits up to `timeout` seconds; true if it exited by then.
    public func stop(timeout: TimeInterval = 10) -> Bool {
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if !process.isRunning { collector?.waitForEnd(seconds: 2) }
        return !process.isRunning
    }

    /// Everything the server wrote to standard error so far.
    public func log() -> String { collector?.text ?? "" }

    /// True once the log contains `text`, waiting up to `seconds` for it: the server writes
    /// its log from a thread of its own, a moment after the event it tells of.
    public func waitForLog(containing text: String, seconds: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !log().contains(text) {
            guard Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }
}

public struct ServerStartFailure: Error, CustomStringConvertible {
    public let log: String
    public init(log: String) { self.log = log }
    public var description: String { "the server did not start:\n\(log)" }
}

/// Runs `curl` (an independent HTTP client) and returns its exit status and output.
@discardableResult
public func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try runProgram("/usr/bin/curl", ["-s"] + arguments)
    return (result.status, result.output)
}

/// Runs a program to its end and returns its exit status, standard output and error.
@discardableResult
public func runProgram(_ program: String, _ arguments: [String]) throws -> (
    status: Int32, output: String, error: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Both pipes are read on threads of their own, so neither can fill up and block the
    // child. Their ends are not waited for past the child's exit: a process another test
    // started at the same moment may have inherited a pipe's write end (Foundation's pipes
    // are not close-on-exec), and the end would then come only when that process stops
    // (a test run once hung so, both cooperative threads blocked).
    let output = PipeCollector(out)
    let errors = PipeCollector(err)
    process.waitUntilExit()
    output.waitForEnd(seconds: 5)
    errors.waitForEnd(seconds: 5)
    return (process.terminationStatus, output.text, errors.text)
}
