import ArgumentParser
import Botrix
import EventLog
import Foundation
import JSONCoding
import Storage
import TerminalOutput

struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Drop projections and rebuild them by replaying the log.",
        discussion: """
            Rebuilds every projection (or the ones named: jobs, accounts) by replaying the
            whole log into scratch files beside the data file (one per projection, each
            folded on a thread of its own), in many small commits; then moves the rows
            into the data file beside the live ones (partner databases, short commits of
            at most 16,384 rows or 2,048 events), and exchanges each live database with
            its partner in ONE short write transaction, whatever their size. A crash at
            any moment leaves the old projections or the new ones, never a mix; the next
            rebuild removes what a crash left (the scratch files, rows in the partners), and
            so does `botrix serve` on the file (at start and every minute). A failure after
            the exchange, while removing the retired rows, leaves the rebuilt projections
            live: the rebuild says how many rows it left and why, and ends with exit
            status 0 when the disk was full, 1 for any other error (an I/O error).
            Shows a progress bar on a terminal and ends with a summary (events replayed,
            seconds, events per second, the longest short write, how long the exchange
            paused writes). One rebuild of a file runs at a time (a second one stops at
            once).

            Beside a running `botrix serve` on the same file it works online: the server
            keeps serving and appending; its writes wait for one short step at a time, and
            its reads see the old projections until the exchange commits. The data file's
            folder needs room for two more copies of the projections while it runs (the
            scratch files and the partners).

            EXAMPLES
              botrix rebuild
              botrix rebuild jobs
              botrix rebuild --db /var/lib/botrix/botrix.mdb
            """
    )

    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("Projections to rebuild (jobs, accounts); all when none.", valueName: "projection"))
    var projections: [String] = []

    func validate() throws {
        let names = BotrixFile.standardProjectionNames
        for name in projections where !names.contains(name) {
            throw ValidationError(
                "unknown projection \(name): choose from \(names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let configuration = try await store.configuration()
        let path = configuration.databasePath
        try BotrixFile.requireExisting(path)
        // Refused before the replay rather than at its end (the rebuild looks again there).
        if ServerPresence.followsExchanges(of: path) == false {
            throw CommandFailure(OlderServerRunning(path: path, pid: ServerPresence.server(of: path)).description)
        }
        if let pid = ServerPresence.server(of: path) {
            FileHandle.standardError.write(
                Data(
                    "note: botrix serve\(pid > 0 ? " (pid \(pid))" : "") is running on \(path); it keeps serving; its writes wait for one short step of the rebuild at a time\n"
                        .utf8))
        }
        let botrix = try BotrixFile(
            path: path, mapSize: configuration.mapSize, durability: configuration.durability, access: .maintenance)
        let only = projections.isEmpty ? nil : Set(projections)
        let head = try botrix.head().sequence
        let progress = ProgressLine(
            label: "rebuilding \(projections.isEmpty ? "all projections" : projections.joined(separator: ", "))",
            total: Int(head))
        // Beside a server, each step leaves it a moment to take LMDB's writer lock.
        let report = try botrix.rebuild(only: only) { progress.update($0) }
        progress.finish()
        let names = projections.isEmpty ? botrix.projectionNames : projections
        say(
            "rebuilt \(names.joined(separator: ", ")): "
                + "\(report.events) events replayed in \(JSONWritingFixed.text(report.seconds, 2)) s "
                + "(\(Int(report.eventsPerSecond)) events/s), checkpoint \(report.checkpoint ?? head); "
                + "\(report.rowsCopied) rows moved in beside the live ones and \(report.rowsRetired) retired rows "
                + "removed in \(report.steps) short writes "
                + "(the longest \(JSONWritingFixed.text(report.longestStepSeconds * 1000, 1)) ms); "
                + "writes paused \(JSONWritingFixed.text(report.exchangeSeconds * 1000, 2)) ms for the exchange "
                + "(\(report.eventsAtExchange) events applied); "
                + "the retired rows' removal took \(JSONWritingFixed.text(report.retireSeconds, 2)) s"
        )
        if let failure = report.retireFailure {
            FileHandle.standardError.write(
                Data(
                    ("warning: the rebuilt projections are live, but removing the retired rows stopped (\(failure)): "
                        + "\(report.retiredLeft.map { "\($0)" } ?? "an unknown number") are still in the partner "
                        + "databases (`botrix stats`: partner rows); "
                        + "`botrix serve` on this file removes them when it starts and every minute, or the next rebuild does\n")
                        .utf8))
        }
    }
}

/// Fixed-point text for summaries.
enum JSONWritingFixed {
    static func text(_ value: Double, _ decimals: Int) -> String {
        String(decoding: JSONWriting.fixed(value, decimals: decimals), as: UTF8.self)
    }
}
