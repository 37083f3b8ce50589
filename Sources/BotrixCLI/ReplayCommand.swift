import ArgumentParser
import Botrix
import EventLog
import Foundation
import JSONCoding
import TerminalOutput

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Show jobs and accounts as they were at a moment, folded from the log alone.",
        discussion: """
            Folds the log from its first event up to --as-of (a sequence number, or an RFC
            3339 time: every event recorded at or before it) with the same evolve
            functions the projections use. It never reads the projections, so it also
            answers "what did the projections say then" when they are in doubt. Safe while
            a server runs.

            EXAMPLES
              botrix replay --as-of 1200 --job 0f8e6a52-…     one job after event 1200
              botrix replay --as-of 2026-01-02T12:00:00Z --account 17
              botrix replay --as-of 5000 --format table       every job and account
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(
        name: .customLong("as-of"), help: ArgumentHelp("A sequence number or an RFC 3339 time.", valueName: "seq|time"))
    var asOf: Moment
    @Option(help: ArgumentHelp("Only this job (its UUID).", valueName: "id")) var job: String?
    @Option(help: ArgumentHelp("Only this account (its id).", valueName: "id")) var account: Int64?
    @Option(help: "json (default) or table.") var format: OutputFormat = .json

    func validate() throws {
        if job != nil && account != nil { throw ValidationError("give --job or --account, not both") }
        if let job, UUID(text: job) == nil { throw ValidationError("--job \(job) is not a job id (a UUID)") }
        if let account, account < 1 { throw ValidationError("--account must be a positive id") }
        if format == .jsonl { throw ValidationError("--format must be json or table") }
    }

    func run() async throws {
        let botrix = try await store.openForReading()
        let head = try botrix.head().sequence
        let cut: ReplayCut
        switch asOf {
        case .sequence(let sequence):
            guard sequence <= head else {
                throw CommandFailure("--as-of \(sequence) is beyond the last event (\(head))")
            }
            cut = .sequence(sequence)
        case .time(let time): cut = .time(time)
        }
        let jobID = job.flatMap { UUID(text: $0) }
        let state = try botrix.replay(asOf: cut, job: jobID, account: account)
        let at = Timestamp.rfc3339(milliseconds: state.recordedAt)
        if let jobID {
            guard let view = state.jobs[jobID] else {
                throw CommandFailure("job \(jobID.text) did not exist as of event \(state.sequence)")
            }
            return emit(
                format == .table ? jobTable([view]) : String(decoding: view.json(now: state.recordedAt), as: UTF8.self))
        }
        if let account {
            guard let view = state.accounts[account] else {
                throw CommandFailure("account \(account) did not exist (or was deleted) as of event \(state.sequence)")
            }
            return emit(format == .table ? accountTable([view]) : String(decoding: view.json(), as: UTF8.self))
        }
        let jobs = state.jobs.values.sorted { $0.createdSequence < $1.createdSequence }
        let accounts = state.accounts.values.sorted { $0.id < $1.id }
        if format == .table {
            emit(
                "as of event \(state.sequence) (\(at)): \(jobs.count) jobs, \(accounts.count) accounts\n\n"
                    + jobTable(jobs) + "\n\n" + accountTable(accounts))
        } else {
            var w = JSONObjectWriter()
            w.int("as_of_sequence", state.sequence)
            w.string("as_of_time", at)
            w.raw("jobs", array(jobs.map { $0.json(now: state.recordedAt) }))
            w.raw("accounts", array(accounts.map { $0.json() }))
            emit(String(decoding: w.bytes(), as: UTF8.self))
        }
    }

    private func emit(_ text: String) { say(text) }

    private func array(_ items: [[UInt8]]) -> [UInt8] {
        [91] + items.enumerated().flatMap { index, item in (index > 0 ? [44] : []) + item } + [93]
    }

    private func jobTable(_ jobs: [JobView]) -> String {
        var table = Table()
        table.add("JOB", "STATUS", "PROGRESS", "PRIORITY", "ATTEMPTS", "WORKER", "UPDATED")
        for job in jobs {
            table.add(
                job.id.text, job.status.rawValue, "\(job.progress)/\(job.count)", "\(job.priority)", "\(job.attempts)",
                job.workerID ?? "-", job.updatedAt)
        }
        return table.render()
    }

    private func accountTable(_ accounts: [AccountView]) -> String {
        var table = Table()
        table.add("ACCOUNT", "STATUS", "EMAIL", "USERNAME", "JOB", "UPDATED")
        for account in accounts {
            table.add(
                "\(account.id)", account.status.rawValue, account.email, account.username, account.jobID.text,
                account.updatedAt)
        }
        return table.render()
    }
}
