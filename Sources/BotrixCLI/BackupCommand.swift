import ArgumentParser
import Botrix
import Foundation
import TerminalOutput

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted copy of the data file, even while serving.",
        discussion: """
            Copies the log page by page in short read transactions, then one short snapshot of
            what was appended meanwhile and of the tables that are not derived from the log
            (keys, secrets, stored answers), then rebuilds the projections in the copy from its
            own log, in DEST.partial. A server beside it keeps reading, writing and reusing
            pages: no read transaction is held for long. DEST.partial is then written to DEST
            compacted (only live entries, no free pages) and removed, so DEST appears only
            whole. It then opens the copy and verifies its hash chain.
            Beside the copy it writes DEST-keyring: the keyring root of the copy's epoch,
            still wrapped under the master key (keep the master key elsewhere). The copy, its
            keyring and the folder are fsynced before success is printed. DEST must not exist.

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
        // One bar per attempt (a copy is retried when an erasure moved the keyring meanwhile),
        // each sized to what that attempt copies.
        var progress: ProgressLine?
        var reached: UInt64 = 0
        let result: BackupResult
        do {
            result = try botrix.backup(to: destination) { done, total in
                if progress == nil || done < reached {  // the first attempt, or a new one
                    progress?.finish()
                    progress = ProgressLine(label: "copying the log", total: Int(total))
                }
                reached = done
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
    }
}
