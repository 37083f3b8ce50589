import Foundation
import Logging

/// The example's settings, from the environment (no arguments to parse, so a test or a
/// container sets it up the same way).
struct Settings {
    /// `BOTRIX_URL`, default `http://127.0.0.1:8080`.
    var url: String
    /// `BOTRIX_API_KEY`; unset or empty for an open development server.
    var apiKey: String?
    /// `WORKER_ID`, default `swift-example-<pid>`.
    var workerID: String
    /// `BOTRIX_WORK_DELAY_MS`: fake work per account, default 1000.
    var delay: Duration
    /// `BOTRIX_LEASE_SECONDS`, default 60.
    var leaseSeconds: Int
    /// `BOTRIX_WAIT_SECONDS`: long-poll length 0…30, default 20.
    var waitSeconds: Int
    /// `BOTRIX_MAX_JOBS`: exit after this many jobs; unset for no limit.
    var maxJobs: Int?
    /// `BOTRIX_LOG_LEVEL`: the library's log level on standard error, default `warning`.
    var logLevel: Logger.Level

    init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        func text(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                return nil
            }
            return value
        }
        url = text("BOTRIX_URL") ?? "http://127.0.0.1:8080"
        apiKey = text("BOTRIX_API_KEY")
        workerID = text("WORKER_ID") ?? "swift-example-\(ProcessInfo.processInfo.processIdentifier)"
        delay = .milliseconds(text("BOTRIX_WORK_DELAY_MS").flatMap { Int($0) }.map { max(0, $0) } ?? 1000)
        leaseSeconds = text("BOTRIX_LEASE_SECONDS").flatMap { Int($0) }.map { max(1, $0) } ?? 60
        waitSeconds = text("BOTRIX_WAIT_SECONDS").flatMap { Int($0) }.map { min(30, max(0, $0)) } ?? 20
        maxJobs = text("BOTRIX_MAX_JOBS").flatMap { Int($0) }
        logLevel = text("BOTRIX_LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .warning
    }
}
