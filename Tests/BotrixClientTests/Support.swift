import BotrixClient
import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A condition the test and a handler share: one side opens it, the other waits for it
/// (bounded). Polls, so it needs nothing but the clock.
final class Latch: Sendable {
    private let state = Mutex(false)

    func open() { state.withLock { $0 = true } }

    var isOpen: Bool { state.withLock { $0 } }

    /// True once open; false when `seconds` passed first.
    func wait(seconds: Double) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        while !isOpen {
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

/// Values a handler or a callback hands to the test.
final class Box<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }

    var all: [Value] { values.withLock { $0 } }
}

/// A lease no test outlives by accident. `swift test` runs every suite in one process whose
/// shared pool has as many threads as the machine has cores (two here); while other suites
/// wait on child processes those threads are busy, and a worker's heartbeat or a test's next
/// call can come tens of seconds late. Tests whose subject is not lease expiry use this.
let patientLease = 600

/// How long a test waits for something that normally takes a second or two before it calls
/// it a failure (reached only when the behaviour is wrong, or the machine is badly starved).
let patience: Double = 240

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body`, cancelling it and throwing `TimedOut` when it takes longer than `seconds`.
func bounded<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut(what: what) }
        return value
    }
}

/// Polls `condition` every 50 ms for up to `seconds`; true once it held.
func eventually(_ seconds: Double, _ condition: @Sendable () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(seconds)
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

/// A made-up account whose email and username are unique within this test run.
func fakeAccount(_ tag: String) -> NewAccount {
    let unique = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    let name = "\(tag)\(unique)"
    return NewAccount(
        email: "\(name)@example.invalid", username: String(name.prefix(32)),
        password: "s3cret-pass-\(unique.prefix(6))", birthdate: "1990-01-02")
}

/// Every account of a job, page after page.
func accounts(of jobID: String, _ client: BotrixClient) async throws -> [Account] {
    var all: [Account] = []
    var after: String?
    repeat {
        let page = try await client.accounts(jobID: jobID, limit: 100, after: after)
        all += page.data
        after = page.pagination.next
    } while after != nil
    return all
}

/// `botrix serve` on a given port (`ServerProcess` always takes a fresh one): the second
/// life of a server in a restart test, on the first life's port and data file.
final class ServerOnPort: @unchecked Sendable {
    let process: Process
    let port: Int
    private let collector: PipeCollector

    init(binary: String, database: String, port: Int, folder: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--db", database]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "info"
        environment["SERVER_ENV"] = "development"
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: folder)  // no stray .env is read
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let collector = PipeCollector(errors)
        let ready = "listening on 127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(30)
        while !collector.text.contains(ready) && process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        guard collector.text.contains(ready) else {
            if process.isRunning { process.terminate() }
            throw ServerStartFailure(log: collector.text)
        }
        self.process = process
        self.port = port
        self.collector = collector
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM, then waits up to `timeout` seconds; true if it exited.
    func stop(timeout: TimeInterval = 10) -> Bool {
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return !process.isRunning
    }

    func log() -> String { collector.text }
}

/// The built `botrix-example-worker` as a child process, its standard error collected.
final class ExampleWorkerProcess: @unchecked Sendable {
    let process: Process
    private let collector: PipeCollector

    init(binary: String, environment extra: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        self.collector = PipeCollector(errors)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Everything it wrote to standard error so far.
    var output: String { collector.text }

    /// Waits up to `seconds` for it to exit; its exit status, nil if still running.
    func waitForExit(seconds: Double) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        while process.isRunning && clock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else { return nil }
        collector.waitForEnd(seconds: 2)
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }
}

/// The ``BotrixError`` `body` threw; nil when it returned or threw something else.
func caught<T>(_ body: () async throws -> T) async -> BotrixError? {
    do {
        _ = try await body()
        return nil
    } catch let error as BotrixError {
        return error
    } catch {
        return nil
    }
}

/// The value of `task`, cancelling the task when the caller is cancelled (as `bounded`
/// does on a timeout), so no test leaves a worker running behind it.
func valueOf<T: Sendable>(_ task: Task<T, any Error>) async throws -> T {
    try await withTaskCancellationHandler {
        try await task.value
    } onCancel: {
        task.cancel()
    }
}
