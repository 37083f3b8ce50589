import EventLog
import Foundation
import Storage
import StorageBackends
import Synchronization

/// Runs one append case through the real writer, or through the C baseline, on fresh files.
struct AppendBenchmark {
    let baseline: String
    let durability: Durability
    let eventBytes: Int
    let directory: String
    let runs: Int

    /// The event every case appends: a JSON object of `eventBytes` bytes.
    var event: ProposedEvent {
        let padding = String(repeating: "x", count: max(0, eventBytes - 10))
        return ProposedEvent(type: "BenchEvent", data: Array("{\"pad\":\"\(padding)\"}".utf8))
    }

    /// What Botrix stores for that event, header and hash chain included; the C baseline
    /// puts values of this size so both write the same bytes.
    var recordBytes: Int { EventLog.encodedRecordSize(of: event, stream: "bench-0") }

    /// Events per second through `GroupCommitWriter` (median of `runs`), the mean number
    /// of operations per commit and the mean time a commit takes (its puts and its fsync):
    /// what is left of a cycle is the writer waiting for callers to come back.
    func swiftRate(
        total: Int, batch: Int, appenders: Int
    ) async throws -> (rate: Double, perCommit: Double, commitMilliseconds: Double) {
        var rates: [Double] = []
        let commits = Mutex((operations: 0, batches: 0, seconds: 0.0))
        for _ in 0..<runs {
            let path = freshPath()
            defer { remove(path) }
            let log = try StorageBackends.open(StorageOptions(path: path, mapSize: 1 << 32, durability: durability)) {
                try EventLog(environment: $0)
            }
            let writer = try GroupCommitWriter(
                log: log,
                onBatch: { report in
                    commits.withLock {
                        $0.operations += report.operations
                        $0.batches += 1
                        $0.seconds += report.commitSeconds
                    }
                })
            let event = self.event
            let appendsPerTask = max(1, total / (batch * appenders))
            let started = DispatchTime.now().uptimeNanoseconds
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<appenders {
                    group.addTask {
                        let request = AppendRequest(
                            stream: "bench-\(task)", events: Array(repeating: event, count: batch))
                        for _ in 0..<appendsPerTask { _ = try await writer.append(request) }
                    }
                }
                try await group.waitForAll()
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            await writer.shutdown()
            rates.append(Double(appendsPerTask * batch * appenders) / seconds)
        }
        let totals = commits.withLock { $0 }
        let batches = Double(max(1, totals.batches))
        let perCommit = Double(totals.operations) / batches
        let milliseconds = totals.seconds * 1000 / batches
        return (median(rates), perCommit, milliseconds)
    }

    /// Events per second of the raw C program, median of `runs`.
    func cRate(total: Int, batch: Int) throws -> Double {
        var rates: [Double] = []
        for _ in 0..<runs {
            let path = freshPath()
            defer { remove(path) }
            rates.append(
                try Baseline.rate(
                    of: baseline, [path, "\(total)", "\(batch)", "\(recordBytes)", durability.rawValue]))
        }
        return median(rates)
    }

    private func freshPath() -> String {
        "\(directory)/botrix-bench-\(UUID().uuidString).mdb"
    }

    private func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + "-lock")
    }
}
