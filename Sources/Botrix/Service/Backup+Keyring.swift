import Foundation

/// What ``BotrixStore/backupWithKeyring(to:progress:afterSnapshot:)`` wrote.
struct KeyedBackup {
    var report: BackupReport
    var keyring: Keyring.BackupOutcome
    /// Copies made: more than one only when an erasure came and went within the snapshot's
    /// instant.
    var attempts: Int
}

extension BotrixStore {
    /// Writes a copy of this store to `destination` (``backup(to:pageSize:progress:atSnapshot:)``)
    /// and the keyring of the copy's epoch beside it (``Keyring/writeBackupKeyring(of:copy:)``).
    ///
    /// The live keyring is read just before and just after the snapshot's read transaction
    /// begins. An erasure writes the next epoch's root before it commits and drops the old
    /// root only after, so the copy's root is in one of the two readings unless an erasure
    /// both committed and finished within those microseconds. An erasure committed while the
    /// copy's projections are rebuilt (seconds, minutes on a large file) cannot take the
    /// root away: the copy is the file as of its snapshot, with that instant's root. Read only
    /// at the end, as before, steady deletions failed 3 backups in 7. When the root is in
    /// neither reading, the copy is made again, at most five times.
    ///
    /// `afterSnapshot` runs once the snapshot is copied, on the first attempt only (tests).
    func backupWithKeyring(
        to destination: String, progress: (UInt64, UInt64) -> Void, afterSnapshot: () throws -> Void = {}
    ) throws -> KeyedBackup {
        let live = Keyring(dataFile: environment.path)
        for attempt in 1...5 {
            var captured: [Keyring.Contents] = []
            let report = try backup(to: destination, progress: progress) { moment in
                switch moment {
                case .beginning, .begun:
                    if let contents = try live.load() { captured.append(contents) }
                case .taken:
                    if attempt == 1 { try afterSnapshot() }
                }
            }
            let outcome = try { () throws -> Keyring.BackupOutcome in
                let copy = try BotrixStore(.init(path: destination, readOnly: true))  // closed when this returns
                return try Keyring.writeBackupKeyring(of: environment.path, copy: copy.environment, captured: captured)
            }()
            guard case .epochGone(let epoch) = outcome else {
                return KeyedBackup(report: report, keyring: outcome, attempts: attempt)
            }
            try FileManager.default.removeItem(atPath: destination)
            try? FileManager.default.removeItem(atPath: destination + "-lock")
            if attempt == 5 {
                throw BackupFailure(
                    description:
                        "the keyring moved past epoch \(epoch) of each copy (deletions are erasing secrets right now): try again"
                )
            }
        }
        preconditionFailure("the loop returns or throws on its fifth attempt")
    }
}
