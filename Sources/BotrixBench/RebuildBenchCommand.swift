import ArgumentParser
import Botrix
import EventLog
import Foundation
import Storage
import TerminalOutput

struct RebuildBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild speed over a large synthetic log, against a raw LMDB cursor scan of the same log.",
        discussion: """
            Writes a log of --events events (jobs created, claimed, filled with accounts
            and completed), then times, on the same file: the raw C scan of the `events`
            database (tools/lmdb-scan-baseline.c), the in-place rebuild of every
            projection, a page per commit (what a backup's private copy uses), and the
            online rebuild (`botrix rebuild`: a scratch file per projection in many
            commits, moved in beside the live rows in short steps, then one exchange),
            with how long the exchange and the longest step held the write lock. Medians
            of --runs; the log is written once.

            EXAMPLES
              make bench
              botrix-bench rebuild --events 1000000 --runs 3
            """
    )

    @Option(help: "The compiled C scan baseline.") var baseline: String = ".build/lmdb-scan-baseline"
    @Option(help: "Events in the synthetic log.") var events = 1_000_000
    @Option(help: "Runs; the median is reported.") var runs = 3
    @Option(help: "Folder for the temporary data file.") var directory: String = NSTemporaryDirectory()
    @Flag(help: "Time only the scan and the online rebuild (for profiling the online path).")
    var onlineOnly = false

    func validate() throws {
        guard events >= 1000 && events <= 50_000_000 else { throw ValidationError("--events must be 1000...50000000") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() async throws {
        try Baseline.require(baseline, source: "tools/lmdb-scan-baseline.c")
        let path = "\(directory)/botrix-rebuild-bench-\(UUID().uuidString).mdb"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + "-lock")
            try? FileManager.default.removeItem(atPath: path + "-rebuild")
        }
        let store = try BotrixStore(.init(path: path, mapSize: 1 << 34, durability: .nosync))
        let log = store.log
        let environment = log.environment
        let progress = ProgressLine(label: "writing the log", total: events)
        let written = try SyntheticLog.write(events: events, into: log)
        try environment.sync()
        progress.finish()
        let projections = try Projections(environment: environment)
        var scanRates: [Double] = []
        var inPlaceRates: [Double] = []
        var onlineRates: [Double] = []
        var pauses: [Double] = []
        var longestSteps: [Double] = []
        var retireSeconds: [Double] = []
        var replaySeconds: [Double] = []
        var moveSeconds: [Double] = []
        var rows = 0
        for _ in 0..<runs {
            scanRates.append(try Baseline.rate(of: baseline, [path]))
            if !onlineOnly {
                let started = DispatchTime.now().uptimeNanoseconds
                let replayed = try projections.rebuild(log: log)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                inPlaceRates.append(Double(replayed) / seconds)
            }
            // No server runs here: no writer to leave room for between steps.
            let online = try store.rebuild(yieldingToWriters: false)
            onlineRates.append(online.eventsPerSecond)
            pauses.append(online.exchangeSeconds)
            longestSteps.append(online.longestStepSeconds)
            retireSeconds.append(online.retireSeconds)
            replaySeconds.append(online.replaySeconds)
            moveSeconds.append(online.moveSeconds)
            rows = online.rowsCopied
        }
        let scan = median(scanRates)
        let online = median(onlineRates)
        say("Rebuild of \(formatRate(Double(written))) events, median of \(runs) runs")
        say(column("case", 34, right: false) + column("events/s", 14) + column("seconds", 10))
        say(
            column("raw C cursor scan", 34, right: false) + column(formatRate(scan), 14)
                + column(String(format: "%.2f", Double(written) / scan), 10))
        if !inPlaceRates.isEmpty {
            let inPlace = median(inPlaceRates)
            say(
                column("botrix rebuild, in place", 34, right: false) + column(formatRate(inPlace), 14)
                    + column(String(format: "%.2f", Double(written) / inPlace), 10))
        }
        say(
            column("botrix rebuild (all), online", 34, right: false) + column(formatRate(online), 14)
                + column(String(format: "%.2f", Double(written) / online), 10))
        say(
            "online: writers paused \(String(format: "%.2f", median(pauses) * 1000)) ms for the exchange, "
                + "at most \(String(format: "%.1f", median(longestSteps) * 1000)) ms for a step of moving \(rows) rows in; "
                + "of the online time, the replay into the scratch files \(String(format: "%.2f", median(replaySeconds))) s "
                + "and the move in \(String(format: "%.2f", median(moveSeconds))) s; "
                + "retired rows removed in \(String(format: "%.2f", median(retireSeconds))) s after (not counted); "
                + "in place: a store no server writes, as a backup's copy")
        say("rebuild / scan: \(String(format: "%.3f", online / scan))")
    }
}
