import ArgumentParser
import Botrix
import BotrixServer
import Foundation
import TerminalOutput

/// `botrix`: the server and the tools to audit and repair it.
@main
struct BotrixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botrix",
        abstract: "An event-sourced ledger and work queue for batch account-provisioning jobs.",
        discussion: """
            Every change is an event appended to an append-only log in one LMDB file; jobs,
            accounts, the queue and the statistics are projections of that log.

            The data file is --db PATH, or DB_PATH from the environment or .env
            (default: data/botrix.mdb). Read-only commands work while `botrix serve`
            runs on the same file.

            EXAMPLES
              botrix serve                      Serve on 0.0.0.0:8080 (see SERVER_HOST, SERVER_PORT)
              botrix events --after 100 --limit 20
              botrix replay --as-of 500 --job 0f8e6a52-…
              botrix verify                     Hash chain, stream index, projections
              botrix backup copy.mdb            Consistent copy while serving
              botrix stats
              botrix keys create --name ops --scope admin
              botrix rebuild                    Replay the log into fresh projections
            """,
        version: BotrixVersion.current,
        subcommands: [
            ServeCommand.self, EventsCommand.self, ReplayCommand.self, RebuildCommand.self, VerifyCommand.self,
            BackupCommand.self, StatsCommand.self, KeysCommand.self,
        ]
    )

    /// Runs the command; a failure is one line on standard error and a non-zero exit,
    /// while `--help` and `--version` print as ArgumentParser prints them.
    static func main() async {
        // A closed pipe (`botrix events | head`) must end a command cleanly between read
        // transactions, not kill it inside one: writes see EPIPE instead (StandardOutput).
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Log lines of the command (serve's) first: the error line must come last, and
            // the log's thread would otherwise write what waits only at exit, after it.
            ServerLogging.flush()
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            // The whole message: a configuration error lists every bad variable on its own line.
            let message = message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            FileHandle.standardError.write(Data("botrix: \(message.isEmpty ? "\(error)" : message)\n".utf8))
            exit(withError: ExitCode(code.rawValue == 0 ? 1 : code.rawValue))
        }
    }
}
