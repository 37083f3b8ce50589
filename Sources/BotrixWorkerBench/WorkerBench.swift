import AsyncHTTPClient
import BotrixClient
import Foundation
import Synchronization

/// The two measurements of the worker loop; see main.swift.
struct WorkerBench: Sendable {
    struct Settings: Sendable {
        var url: String
        var longPoll: Bool
        var workers: Int
        var jobs: Int
        var latencyJobs: Int
    }

    let settings: Settings
    let http: HTTPClient
    let client: BotrixClient

    init(_ settings: Settings) {
        self.settings = settings
        // One connection per worker (the shared client allows 8 per host).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = settings.workers + 8
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        client = BotrixClient(baseURL: settings.url, httpClient: http)
    }

    func run() async throws -> String {
        let measured: (Double, [Double])
        do {
            measured = (try await measureThroughput(), try await measureLatency().sorted())
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        let (throughput, latencies) = measured
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
        }
        return String(
            format:
                #"{"mode":"%@","workers":%d,"jobs":%d,"jobs_per_second":%.1f,"latency_jobs":%d,"latency_p50_ms":%.2f,"latency_p99_ms":%.2f}"#,
            settings.longPoll ? "long-poll" : "poll", settings.workers, settings.jobs, throughput, latencies.count,
            percentile(0.5) * 1000, percentile(0.99) * 1000)
    }

    /// A claim as the mode makes it: a long poll, or one try then 100 ms of sleep.
    func claim(_ worker: String) async throws -> Claim? {
        if settings.longPoll { return try await client.claim(workerID: worker, leaseSeconds: 60, waitSeconds: 1) }
        if let claim = try await client.claim(workerID: worker, leaseSeconds: 60) { return claim }
        try await Task.sleep(for: .milliseconds(100))
        return nil
    }

    /// Jobs per second through claim → 1 account → complete.
    func measureThroughput() async throws -> Double {
        try await createJobs(settings.jobs)
        let done = Shared(0)
        let finished = Shared<ContinuousClock.Instant?>(nil)
        let total = settings.jobs
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<settings.workers {
                group.addTask {
                    let worker = "bench-\(n)"
                    while done.withLock({ $0 }) < total {
                        guard let claim = try await claim(worker) else { continue }
                        _ = try await client.recordAccount(claim, Self.account(claim.jobID))
                        _ = try await client.complete(claim)
                        let now = ContinuousClock.now
                        done.withLock { count in
                            count += 1
                            if count == total { finished.withLock { $0 = now } }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        // Up to the last completion: not the long polls that then wait out their second.
        return Double(total) / ((finished.withLock { $0 } ?? ContinuousClock.now) - started).seconds
    }

    /// Seconds from each create request's start to the claim's answer.
    func measureLatency() async throws -> [Double] {
        let created = Shared<[String: ContinuousClock.Instant]>([:])
        let latencies = Shared<[Double]>([])
        let total = settings.latencyJobs
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<settings.workers {
                group.addTask {
                    let worker = "wait-\(n)"
                    while latencies.withLock({ $0.count }) < total {
                        guard let claim = try await claim(worker) else { continue }
                        let answered = ContinuousClock.now
                        // The creator notes the start once its create is answered: wait for it.
                        var start: ContinuousClock.Instant?
                        while start == nil {
                            start = created.withLock { $0[claim.jobID] }
                            if start == nil { try await Task.sleep(for: .milliseconds(1)) }
                        }
                        latencies.withLock { $0.append((answered - start!).seconds) }
                        _ = try await client.complete(claim)
                    }
                }
            }
            group.addTask {
                // Let every worker start waiting first.
                try await Task.sleep(for: .seconds(2))
                for _ in 0..<total {
                    let start = ContinuousClock.now
                    let accepted = try await client.createJob(count: 1)
                    // A worker may have its claim before this answer: it waits for the note.
                    created.withLock { $0[accepted.jobID] = start }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            try await group.waitForAll()
        }
        return latencies.withLock { $0 }
    }

    func createJobs(_ count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slice in 0..<16 {
                group.addTask {
                    for _ in stride(from: slice, to: count, by: 16) { _ = try await client.createJob(count: 1) }
                }
            }
            try await group.waitForAll()
        }
    }

    static func account(_ job: String) -> NewAccount {
        let n = UInt64.random(in: 0..<1_000_000_000_000)
        return NewAccount(
            email: "bench-\(n)@example.invalid", username: "bench_\(n)", password: "a made-up password \(n)",
            birthdate: "1990-01-01")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A value the worker tasks share, behind a lock.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}
