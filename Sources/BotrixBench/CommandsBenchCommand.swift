import ArgumentParser
import Botrix
import EventLog
import Foundation
import Storage
import StorageBackends
import Synchronization
import TerminalOutput

struct CommandsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands",
        abstract: "Domain commands per second through the real write path, against one raw commit per event.",
        discussion: """
            create-job and record-account at 1, 16 and 64 concurrent callers, each command
            a decide, an append and the projection updates in the group-commit writer,
            with the durability of --sync (fsync by default). The baseline is the C
            program of tools/lmdb-append-baseline.c committing one event per transaction,
            so the ratio shows what group commit buys after the domain's own work.

            EXAMPLES
              make bench
              botrix-bench commands --runs 3
            """
    )

    @Option(help: "The compiled C append baseline.") var baseline: String = ".build/lmdb-append-baseline"
    @Option(help: "Runs per case; the median is reported.") var runs = 3
    @Option(help: "Durability: full, nometasync or nosync.") var sync: Durability = .full
    @Option(help: "Scale the number of commands per case.") var scale = 1.0
    @Option(help: "Folder for the temporary data files.") var directory: String = NSTemporaryDirectory()

    func run() async throws {
        try Baseline.require(baseline, source: "tools/lmdb-append-baseline.c")
        var oneCommit: [Double] = []
        for _ in 0..<runs {
            let path = "\(directory)/botrix-commands-c-\(UUID().uuidString).mdb"
            defer { removeStore(path) }
            oneCommit.append(try Baseline.rate(of: baseline, [path, "600", "1", "520", sync.rawValue]))
        }
        let c = median(oneCommit)
        say(
            "Domain commands, durability \(sync.rawValue), median of \(runs) runs; baseline: raw C, one commit per event"
        )
        say(
            column("case", 26, right: false) + column("commands/s", 13) + column("raw C ev/s", 13) + column("ratio", 8)
                + column("commands/commit", 17))
        for kind in ["create-job", "record-account"] {
            for callers in [1, 16, 64] {
                let total = max(callers * 4, Int(Double(callers == 1 ? 600 : 12_000) * scale))
                var rates: [Double] = []
                var perCommit: [Double] = []
                for _ in 0..<runs {
                    let (rate, batch) = try await measure(kind: kind, callers: callers, total: total)
                    rates.append(rate)
                    perCommit.append(batch)
                }
                let rate = median(rates)
                say(
                    column("\(kind) x\(callers)", 26, right: false) + column(formatRate(rate), 13)
                        + column(formatRate(c), 13) + column(String(format: "%.1f", rate / c), 8)
                        + column(String(format: "%.1f", median(perCommit)), 17))
            }
        }
    }

    private func measure(kind: String, callers: Int, total: Int) async throws -> (Double, Double) {
        let path = "\(directory)/botrix-commands-\(UUID().uuidString).mdb"
        defer { removeStore(path) }
        let commits = Mutex((operations: 0, batches: 0))
        let service = try await BotrixService.open(
            ServiceStoreOptions(path: path, mapSize: 1 << 32, durability: sync),
            settings: .init(leaseSeconds: 3600, maxJobCount: 1_000_000),
            onBatch: { report in
                commits.withLock {
                    $0.operations += report.operations
                    $0.batches += 1
                }
            })
        let perCaller = total / callers
        var jobs: [UUID] = []
        if kind == "record-account" {
            for caller in 0..<callers {
                _ = try await service.createJob(CreateJob(count: perCaller))
                jobs.append(try await service.claimNext(workerID: "worker-\(caller)")!.id)
            }
        }
        commits.withLock { $0 = (0, 0) }
        let started = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                let job = jobs.isEmpty ? nil : jobs[caller]
                group.addTask {
                    for n in 0..<perCaller {
                        if let job {
                            let id = caller * perCaller + n
                            _ = try await service.recordAccount(
                                RecordAccount(
                                    jobID: job, workerID: "worker-\(caller)", email: "user\(id)@example.com",
                                    username: "user_\(id)", password: "password-\(id)", birthdate: "1990-01-01",
                                    accountData: ["n": .int(Int64(id))]))
                        } else {
                            _ = try await service.createJob(CreateJob(count: 10, priority: n % 3))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        try await service.shutdown()
        let perCommit = commits.withLock { Double($0.operations) / Double(max(1, $0.batches)) }
        return (Double(perCaller * callers) / seconds, perCommit)
    }

    private func removeStore(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + "-lock")
    }
}
