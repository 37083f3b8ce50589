import ArgumentParser
import Botrix
import EventLog
import Foundation
import TerminalOutput

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain, the stream index and every projection against a fresh rebuild.",
        discussion: """
            1. The log: every record's SHA-256, every prev_hash link, gapless sequences and
               stream versions, the stream index in both directions, the stored head.
            2. The projections: a rebuild of the log into scratch files (one per
               projection), compared database by database, row by row, each page of
               live rows with the rebuild brought to the head it reflects (the first
               differing key is named).

            Exits 0 when everything holds; otherwise prints each problem (which sequence,
            which stream, which projection database and key) and exits 1. Reads only: safe
            while `botrix serve` runs.

            EXAMPLES
              botrix verify
              botrix verify --db backup.mdb
            """
    )

    @OptionGroup var store: StoreOptions
    @Flag(help: "Check the log only, not the projections.") var logOnly = false

    func run() async throws {
        let botrix = try await store.openForReading()
        let progress = ProgressLine(label: "verifying the log", total: Int(try botrix.head().sequence))
        let log = try botrix.verifyLog(progress: { progress.update($0) })
        progress.finish()
        var failed = !log.isIntact
        say("log: \(log.eventsChecked) events, \(log.indexEntriesChecked) index entries checked")
        for problem in log.problems { say("FAIL \(problem)") }
        if !logOnly {
            let rebuild = ProgressLine(label: "rebuilding projections to compare", total: Int(log.eventsChecked))
            do {
                let differences = try botrix.verifyProjections { done, _ in rebuild.update(done) }
                rebuild.finish()
                say(
                    "projections: \(try botrix.projectionDatabaseCount()) databases compared with a fresh rebuild"
                )
                for difference in differences { say("FAIL \(difference)") }
                failed = failed || !differences.isEmpty
            } catch {
                rebuild.finish()
                say("FAIL projections: could not rebuild them to compare: \(error)")
                failed = true
            }
        }
        guard failed else {
            say("ok: the log and the projections are intact")
            return
        }
        throw ExitCode(1)
    }
}
