public import ArgumentParser
import Foundation
public import Storage
import StorageBackends
import TerminalOutput

struct AppendBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Durable appends per second through the group-commit writer, against raw LMDB in C.",
        discussion: """
            Two series, each on fresh files in a temporary folder:

              batch B      one appender, B events per append (B = 1, 10, 100,
                           1000); the baseline is the C program making the same
                           puts in transactions of B.
              N appenders  N concurrent appenders of one event each (N = 1, 16,
                           64); the baseline is C with one commit per event, so
                           the ratio is what group commit buys.

            The baseline is tools/lmdb-append-baseline.c (`make bench` compiles it with
            cc -O2 -llmdb). Build botrix in release mode for meaningful figures.

            EXAMPLES
              make bench
              botrix-bench append --baseline .build/lmdb-append-baseline --runs 3 --sync full
            """
    )

    @Option(help: "The compiled C baseline (tools/lmdb-append-baseline.c).")
    var baseline: String = ".build/lmdb-append-baseline"
    @Option(help: "Runs per case; the median is reported.") var runs = 3
    @Option(help: "Durability: full, nometasync or nosync.") var sync: Durability = .full
    @Option(help: "Bytes of event data.") var eventBytes = 400
    @Option(help: "Scale the number of events per case (0.1 for a quick look).") var scale = 1.0
    @Option(
        help:
            "Run only these cases (batch-1, batch-10, batch-100, batch-1000, appenders-1, appenders-16, appenders-64).")
    var only: [String] = []
    @Option(help: "Folder for the temporary data files.") var directory: String = NSTemporaryDirectory()

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard eventBytes >= 16 && eventBytes <= 65_536 else {
            throw ValidationError("--event-bytes must be 16...65536")
        }
        guard scale > 0 && scale <= 10 else { throw ValidationError("--scale must be in (0, 10]") }
        guard FileManager.default.isExecutableFile(atPath: baseline) else {
            throw ValidationError(
                "no C baseline at \(baseline): build it with `cc -O2 -o \(baseline) tools/lmdb-append-baseline.c -llmdb` or run `make bench`"
            )
        }
    }

    func run() async throws {
        let bench = AppendBenchmark(
            baseline: baseline, durability: sync, eventBytes: eventBytes, directory: directory, runs: runs)
        say("Append throughput: \(eventBytes)-byte events, durability \(sync.rawValue), median of \(runs) runs")
        say("(raw C puts values of \(bench.recordBytes) bytes: the size of Botrix's stored record for such an event)")
        say(
            column("case", 22, right: false) + column("botrix ev/s", 14) + column("raw C ev/s", 14) + column("ratio", 9)
                + column("ops/commit", 12) + column("ms/commit", 11))
        var oneCommitPerEvent = 0.0
        for batch in [1, 10, 100, 1000] where only.isEmpty || only.contains("batch-\(batch)") || batch == 1 {
            let total = count(batch == 1 ? 600 : batch == 10 ? 6000 : batch == 100 ? 40_000 : 100_000)
            let c = try bench.cRate(total: total, batch: batch)
            if batch == 1 { oneCommitPerEvent = c }
            guard only.isEmpty || only.contains("batch-\(batch)") else { continue }
            let swift = try await bench.swiftRate(total: total, batch: batch, appenders: 1)
            printRow("batch \(batch)", swift.rate, c, swift.perCommit, swift.commitMilliseconds)
        }
        var gain = 0.0
        for appenders in [1, 16, 64] where only.isEmpty || only.contains("appenders-\(appenders)") {
            let total = count(appenders == 1 ? 600 : 20_000)
            let swift = try await bench.swiftRate(total: total, batch: 1, appenders: appenders)
            printRow(
                "\(appenders) appender\(appenders == 1 ? "" : "s") x 1 event", swift.rate, oneCommitPerEvent,
                swift.perCommit, swift.commitMilliseconds)
            if appenders == 64 { gain = swift.rate / oneCommitPerEvent }
        }
        if gain > 0 {
            say("group commit at 64 appenders: \(String(format: "%.1f", gain))x one commit per event (raw C)")
        }
    }

    private func count(_ base: Int) -> Int { max(10, Int(Double(base) * scale)) }

    private func printRow(
        _ label: String, _ swift: Double, _ c: Double, _ perCommit: Double, _ commitMilliseconds: Double
    ) {
        say(
            column(label, 22, right: false) + column(formatRate(swift), 14) + column(formatRate(c), 14)
                + column(String(format: "%.2f", swift / c), 9) + column(String(format: "%.1f", perCommit), 12)
                + column(String(format: "%.2f", commitMilliseconds), 11))
    }
}

extension Durability: ExpressibleByArgument {}
