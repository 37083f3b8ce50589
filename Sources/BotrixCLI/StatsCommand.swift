import ArgumentParser
import Botrix
import EventLog
import Foundation
import Storage
import TerminalOutput

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Totals, log size, head sequence and map use.",
        discussion: """
            Reads counters kept by the projections (no scan) and LMDB's own figures. Safe while
            a server runs.

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
        let projections = try Projections(store: botrix)
        let (head, jobs, accounts, checkpoints, events) = try botrix.environment.read { txn in
            (
                try botrix.log.head(in: txn), try projections.jobs.counts(in: txn),
                try projections.accounts.counts(in: txn), try projections.checkpoints(in: txn),
                try botrix.log.count(in: txn)
            )
        }
        let info = botrix.environment.figures
        let readers = botrix.environment.readers()
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: botrix.environment.path)[.size] as? Int) ?? 0
        let lag = head.sequence - min(head.sequence, checkpoints.values.min() ?? 0)
        var rows: [(String, String)] = [
            ("head sequence", "\(head.sequence)"),
            ("last event at", head.sequence == 0 ? "-" : Timestamp.rfc3339(milliseconds: head.recordedAt)),
            ("events", "\(events)"),
            ("file size", "\(fileBytes) bytes"),
            (
                "map used",
                "\(info.usedBytes) of \(info.mapSize) bytes (\(info.mapSize > 0 ? info.usedBytes * 100 / info.mapSize : 0)%)"
            ),
            ("projection lag", "\(lag) events"),
            (
                "readers",
                readers.active == 0
                    ? "none open" : "\(readers.active) open, the oldest \(readers.oldestLag) commits behind"
            ),
            ("jobs", "\(jobs["total"] ?? 0)"),
        ]
        for status in JobStatus.allCases {
            rows.append(("  \(status.rawValue)", "\(jobs["status.\(status.rawValue)"] ?? 0)"))
        }
        rows.append(("queue depth", "\(jobs.filter { $0.key.hasPrefix("queue.priority.") }.values.reduce(0, +))"))
        rows.append(("active leases", "\(jobs["leases"] ?? 0)"))
        rows.append(("accounts", "\(accounts["total"] ?? 0)"))
        for status in AccountStatus.allCases {
            rows.append(("  \(status.rawValue)", "\(accounts["status.\(status.rawValue)"] ?? 0)"))
        }
        if format == .json {
            var w = JSONObjectWriter()
            for (key, value) in rows {
                let name = key.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "_")
                let prefix =
                    key.hasPrefix("  ")
                    ? (rows.firstIndex { $0.0 == key }.map { index in
                        rows[..<index].last { !$0.0.hasPrefix("  ") }?.0 ?? ""
                    } ?? "") : ""
                w.string(prefix.isEmpty ? name : "\(prefix)_\(name)", value)
            }
            say(String(decoding: w.bytes(), as: UTF8.self))
        } else {
            var table = Table()
            for (key, value) in rows { table.add(key, value) }
            say(table.render())
        }
    }
}
