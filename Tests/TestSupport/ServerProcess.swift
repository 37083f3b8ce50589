public import Foundation

/// `botrix serve` as a child process on 127.0.0.1 and a free port, for tests that need a
/// real server (SSE, signals). Stops it on deinit if the test did not.
public final class ServerProcess: @unchecked Sendable {
    public let process = Process()
    public private(set) var port = 0
    private let errors = Pipe()
    private var collected = Data()

    public init(binary: String, database: String, environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--db", database]
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = "info"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while port == 0 && Date() < deadline && process.isRunning {
            collected.append(errors.fileHandleForReading.availableData)
            let text = String(decoding: collected, as: UTF8.self)
            if let range = text.range(of: "listening on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                port = Int(digits) ?? 0
            }
        }
        guard port != 0 else { throw ServerStartFailure(log: String(decoding: collected, as: UTF8.self)) }
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
        return !process.isRunning
    }

    /// Everything the server wrote to standard error so far.
    public func log() -> String {
        collected.append(
            process.isRunning
                ? errors.fileHandleForReading.availableData : errors.fileHandleForReading.readDataToEndOfFile())
        return String(decoding: collected, as: UTF8.self)
    }
}

public struct ServerStartFailure: Error, CustomStringConvertible {
    public let log: String
    public var description: String { "the server did not start:\n\(log)" }
}

/// Runs `curl` (an independent HTTP client) and returns its exit status and output.
@discardableResult
public func curl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-s"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
