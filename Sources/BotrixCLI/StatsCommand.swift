import ArgumentParser
import Botrix
import EventLog
import Foundation
import JSONCoding
import Storage
import TerminalOutput

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Totals, log size, head sequence and map use.",
        discussion: """
            Reads counters kept by the projections (no scan) and LMDB's own figures. Safe
            while a server runs.

            EXAMPLES
              botrix stats
              botrix stats --format json
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "table (default) or json.") var format: OutputFormat = .table

    func validate() throws {
        if format == .jsonl { throw ValidationError("--format must be table or json") }
    }

    func run() async throws {
        let botrix = try await store.openForReading()
        let status = try botrix.status()
        let (head, jobs, accounts, info, readers) = (
            status.head, status.jobs, status.accounts, status.storage, status.readers
        )
        var rows: [(String, String)] = [
            ("head sequence", "\(head.sequence)"),
            ("last event at", head.sequence == 0 ? "-" : Timestamp.rfc3339(milliseconds: head.recordedAt)),
            ("events", "\(status.events)"),
            ("file size", "\(status.fileBytes ?? 0) bytes"),
            (
                "map used",
                "\(info.usedBytes) of \(info.mapSize) bytes (\(info.mapSize > 0 ? info.usedBytes * 100 / info.mapSize : 0)%)"
            ),
            ("projection lag", "\(status.lag) events"),
            (
                "partner rows",
                status.partnerRows == 0
                    ? "0"
                    : "\(status.partnerRows) (a rebuild is running, or one was interrupted or could not finish removing them: a server removes them within a minute)"
            ),
            (
                "readers",
                readers.active == 0
                    ? "none open" : "\(readers.active) open, the oldest \(readers.oldestLag) commits behind"
            ),
            ("jobs", "\(jobs.total)"),
        ]
        for status in JobStatus.allCases {
            rows.append(("  \(status.rawValue)", "\(jobs.byStatus[status] ?? 0)"))
        }
        rows.append(("queue depth", "\(jobs.queueDepthByPriority.values.reduce(0, +))"))
        rows.append(("active leases", "\(jobs.activeLeases)"))
        rows.append(("accounts", "\(accounts.total)"))
        for status in AccountStatus.allCases {
            rows.append(("  \(status.rawValue)", "\(accounts.byStatus[status] ?? 0)"))
        }
        if format == .json {
            var w = JSONObjectWriter()
            var section = ""  // the row an indented row belongs to ("jobs", "accounts")
            for (key, value) in rows {
                let name = key.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "_")
                if !key.hasPrefix("  ") { section = name }
                w.string(key.hasPrefix("  ") ? "\(section)_\(name)" : name, value)
            }
            say(String(decoding: w.bytes(), as: UTF8.self))
        } else {
            var table = Table()
            for (key, value) in rows { table.add(key, value) }
            say(table.render())
        }
    }
}
