import ArgumentParser
import Botrix
import Foundation
import TerminalOutput

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted copy of the data file, even while serving.",
        discussion: """
            Copies the log page by page in short read transactions, then one short
            snapshot of what was appended meanwhile and of the tables that are not derived
            from the log (keys, secrets, stored answers), then rebuilds the projections in
            the copy from its own log, in a private folder DEST.partial (mode 0700). A
            server beside it keeps reading, writing and reusing pages: no read transaction
            is held for long. The copy is then written compacted (only live entries, no
            free pages), with its keyring: the keyring root of the copy's epoch, still
            wrapped under the master key (keep the master key elsewhere). The copy's hash
            chain is verified and both are fsynced, then renamed to DEST and DEST-keyring:
            they appear only whole, never over a file. An account deletion committed while
            the copy was made is brought into it (twice at most; under steady deletions a
            note says how many are not in it). DEST must not exist. A second backup to the
            same DEST is refused while the first runs; a killed backup's DEST.partial is
            named for removal by the next one.

            EXAMPLES
              botrix backup /backups/botrix-2026-01-02.mdb
              botrix backup --db /var/lib/botrix/botrix.mdb copy.mdb
            """
    )

    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "dest")) var destination: String

    func run() async throws {
        try BotrixFile.checkBackupDestination(destination)
        let configuration = try await store.configuration()
        let botrix = try BotrixFile(path: configuration.databasePath, mapSize: configuration.mapSize)
        var progress: ProgressLine?
        let result: BackupResult
        do {
            result = try botrix.backup(to: destination) { done, total in
                if progress == nil { progress = ProgressLine(label: "copying the log", total: Int(total)) }
                progress?.update(done)
            }
            progress?.finish()
        } catch {
            progress?.finish()
            throw error
        }
        say(
            "backup \(destination): \(result.bytes) bytes, events 1...\(result.head), "
                + "copied in \(JSONWritingFixed.text(result.seconds, 2)) s; hash chain verified"
                + (result.keyringPath.map { "; keyring \($0)" } ?? ""))
        if let deletions = result.deletionsAfter, deletions > 0 {
            say(
                "note: \(deletions) account deletion(s) committed while the copy was made are not in it: "
                    + "it is the file as of event \(result.head); run the backup again to include them")
        } else if result.deletionsAfter == nil {
            say(
                "note: the account deletions after the copy could not be counted (\(result.deletionsUncounted ?? "")): "
                    + "it is the file as of event \(result.head)")
        }
    }
}
