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
            whole log into a scratch file beside the data file, in many small commits, then
            swaps the result in with ONE short write transaction (it copies the rebuilt rows
            and applies what was appended meanwhile): a crash at any moment leaves the old
            projections or the new ones, never a mix, and the next rebuild removes a scratch
            file a crash left behind. Shows a progress bar on a terminal and ends with a
            summary (events replayed, seconds, events per second, how long writes paused).

            Beside a running `botrix serve` on the same file it works online: the server keeps
            serving and appending during the replay; its writes pause only for the swap, and
            its reads see the old projections until the swap commits. The data file's folder
            needs room for a second copy of the projections while it runs.

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
        if let pid = ServerPresence.server(of: path) {
            FileHandle.standardError.write(
                Data(
                    "note: botrix serve\(pid > 0 ? " (pid \(pid))" : "") is running on \(path); it keeps serving, and its writes pause only while the rebuilt projections are swapped in\n"
                        .utf8))
        }
        let botrix = try BotrixFile(
            path: path, mapSize: configuration.mapSize, durability: configuration.durability, access: .maintenance)
        let only = projections.isEmpty ? nil : Set(projections)
        let head = try botrix.head().sequence
        let progress = ProgressLine(
            label: "rebuilding \(projections.isEmpty ? "all projections" : projections.joined(separator: ", "))",
            total: Int(head))
        let report = try botrix.rebuild(only: only) { progress.update($0) }
        progress.finish()
        let names = projections.isEmpty ? botrix.projectionNames : projections
        say(
            "rebuilt \(names.joined(separator: ", ")): "
                + "\(report.events) events replayed in \(JSONWritingFixed.text(report.seconds, 2)) s "
                + "(\(Int(report.eventsPerSecond)) events/s), checkpoint \(report.checkpoint ?? head); "
                + "writes paused \(JSONWritingFixed.text(report.swapSeconds, 3)) s for the swap (\(report.rowsSwapped) rows)"
        )
    }
}

/// Fixed-point text for summaries.
enum JSONWritingFixed {
    static func text(_ value: Double, _ decimals: Int) -> String {
        String(decoding: JSONWriting.fixed(value, decimals: decimals), as: UTF8.self)
    }
}
