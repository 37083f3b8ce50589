import ArgumentParser
import Botrix
import EventLog
import Foundation
import Storage
import TerminalOutput

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted copy of the data file, even while serving.",
        discussion: """
            Copies the log page by page in short read transactions, then one short snapshot of
            what was appended meanwhile and of the tables that are not derived from the log
            (keys, secrets, stored answers), then rebuilds the projections in the copy from its
            own log. A server beside it keeps reading, writing and reusing pages: no read
            transaction is held for long. The copy holds only live entries (no free pages).
            It then opens the copy and verifies its hash chain.
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
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw CommandFailure("\(destination) already exists: choose a new file name")
        }
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw CommandFailure("cannot write to \(folder): check that it exists and is writable")
        }
        let botrix = try await store.openForReading()
        guard !FileManager.default.fileExists(atPath: destination + "-keyring") else {
            throw CommandFailure("\(destination)-keyring already exists: choose a new file name")
        }
        // Whatever fails from here on (a full destination, a copy that does not verify),
        // nothing half made is left behind.
        var succeeded = false
        defer {
            if !succeeded {
                for suffix in ["", "-lock", "-keyring"] {
                    try? FileManager.default.removeItem(atPath: destination + suffix)
                }
            }
        }
        let started = DispatchTime.now().uptimeNanoseconds
        // An erasure committed between the copy and reading the keyring drops the copy's
        // root from the live keyring: copy again (the new copy has the new epoch).
        var attempt = 0
        while true {
            attempt += 1
            let progress = ProgressLine(label: "copying the log", total: Int(try botrix.log.head().sequence))
            do {
                _ = try botrix.backup(to: destination) { done, _ in progress.update(done) }
                progress.finish()
            } catch {
                progress.finish()
                throw error
            }
            let outcome = try { () throws -> Keyring.BackupOutcome in
                let copy = try BotrixStore(.init(path: destination, readOnly: true))  // closed when this returns
                return try Keyring.writeBackupKeyring(of: botrix.environment.path, copy: copy.environment)
            }()
            guard case .epochGone(let epoch) = outcome else { break }
            try FileManager.default.removeItem(atPath: destination)
            try? FileManager.default.removeItem(atPath: destination + "-lock")
            guard attempt < 5 else {
                throw CommandFailure(
                    "the keyring moved past epoch \(epoch) of each copy (deletions are erasing secrets right now): try again"
                )
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let copy = try BotrixStore(.init(path: destination, readOnly: true))
        let report = try copy.log.verify()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        try? FileManager.default.removeItem(atPath: destination + "-lock")
        guard report.isIntact else {
            throw CommandFailure(
                "the copy at \(destination) does not verify: \(report.problems.first.map(\.description) ?? "")")
        }
        let keyring = Keyring(dataFile: destination)
        let hasKeyring = FileManager.default.fileExists(atPath: keyring.path)
        try DurableFile.sync(destination)
        try DurableFile.syncFolder(of: destination)
        succeeded = true
        say(
            "backup \(destination): \(bytes) bytes, events 1...\(try copy.log.head().sequence), "
                + "copied in \(JSONWritingFixed.text(seconds, 2)) s; hash chain verified"
                + (hasKeyring ? "; keyring \(keyring.path)" : ""))
    }
}
