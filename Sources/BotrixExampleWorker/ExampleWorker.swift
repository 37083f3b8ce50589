import BotrixClient
import Dispatch
import Foundation
import Logging

/// Wires the example together: logging on standard error, the client, the worker with
/// its one-line-per-job report, and SIGTERM/SIGINT turned into a graceful stop.
enum ExampleWorker {
    /// Runs until stopped; the process's exit status (0 after a clean stop).
    static func main() async -> Int32 {
        let settings = Settings()
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let client = BotrixClient(
            baseURL: settings.url, apiKey: settings.apiKey, retry: RetryPolicy(maxDelay: .seconds(5)))
        let worker = Worker(
            client: client, workerID: settings.workerID, leaseSeconds: settings.leaseSeconds,
            waitSeconds: settings.waitSeconds, onJobFinished: { printLine(summary($0)) })
        let signals = StopSignals.install { name in
            printLine("\(name): stopping after the current job is reported")
            worker.stop()
        }
        printLine("botrix-example-worker \(settings.workerID) on \(settings.url)")
        defer { withExtendedLifetime(signals) {} }
        do {
            let handler = FakeWork.handler(delay: settings.delay)
            let handled = try await worker.run(maxJobs: settings.maxJobs, handler: handler)
            printLine("botrix-example-worker \(settings.workerID) stopped after \(handled) job(s)")
            return 0
        } catch {
            printLine("botrix-example-worker: \(error)")
            return 1
        }
    }

    /// One line per job: `job=<id> attempt=<n> outcome=<word> accounts=<n> emails=<a,b,…>`.
    static func summary(_ report: JobReport) -> String {
        let emails = report.accounts.map(\.email).joined(separator: ",")
        return
            "job=\(report.jobID) attempt=\(report.attempt) outcome=\(report.outcome.name) "
            + "accounts=\(report.accounts.count) emails=\(emails)"
    }

    /// Writes one line to standard error (unbuffered, so a parent reading it sees it at once).
    static func printLine(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
