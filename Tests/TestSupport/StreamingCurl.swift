public import Foundation

/// `curl -N` on an event stream as a child process, started and waited for until the
/// server has said `: connected` — so a test acts on an open stream, not on one that a
/// loaded machine has not opened yet.
public final class StreamingCurl: @unchecked Sendable {
    public let process = Process()
    private let collector: PipeCollector

    public convenience init(url: String, headers: [String] = [], maxSeconds: Int = 60) throws {
        try self.init(arguments: ["-N", "--max-time", String(maxSeconds)] + headers.flatMap { ["-H", $0] } + [url])
    }

    /// Any `curl -s` request, started now and left running: the caller goes on at once
    /// (no task has to be scheduled first) and reads `text` or waits for the exit later.
    public init(arguments: [String]) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s"] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        collector = PipeCollector(output)
    }

    deinit { if process.isRunning { process.terminate() } }

    /// Everything received so far.
    public var text: String { collector.text }

    /// Waits until the server's `: connected` comment arrived (true) or `seconds` passed.
    public func waitUntilConnected(seconds: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if text.contains(": connected") { return true }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    /// Waits for curl to exit; its status (nil if it is still running after `seconds`).
    public func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else { return nil }
        _ = collector.waitForEnd(seconds: 2)
        return process.terminationStatus
    }
}
