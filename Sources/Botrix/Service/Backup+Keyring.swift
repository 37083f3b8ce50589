import Foundation
import Storage

/// What ``BotrixStore/backupWithKeyring(to:progress:afterSnapshot:)`` wrote.
struct KeyedBackup {
    var report: BackupReport
    var keyring: Keyring.BackupOutcome
    /// Times the copy was brought up to the live file because an erasure committed while it
    /// was made.
    var refreshes: Int
}

extension BotrixStore {
    /// Writes a copy of this store to `destination` (``backup(to:pageSize:progress:atSnapshot:)``)
    /// and the keyring of the copy's epoch beside it, such that the pair opens nothing an
    /// erasure committed before it returns has erased (README "Security": a backup taken after
    /// a DELETE is acknowledged cannot read the account).
    ///
    /// The live keyring is read just before and just after each snapshot's read transaction
    /// begins. An erasure writes the next epoch's root before it commits and drops the old
    /// root only after, so the copy's root is in one of the readings unless an erasure both
    /// committed and finished within those microseconds. Once the keyring is written, the
    /// live file's epoch is read again: if an erasure committed after the snapshot, the copy
    /// is brought up to the live file in one short snapshot (``refreshBackup(at:atSnapshot:)``)
    /// and its keyring written again, at most five times. Before, the whole copy was made
    /// again, and steady deletions beside it failed 3 backups in 7.
    ///
    /// `afterSnapshot` runs once the first snapshot is copied (tests).
    func backupWithKeyring(
        to destination: String, progress: (UInt64, UInt64) -> Void, afterSnapshot: () throws -> Void = {}
    ) throws -> KeyedBackup {
        let live = Keyring(dataFile: environment.path)
        var captured: [Keyring.Contents] = []
        func capture(_ moment: SnapshotMoment) throws {
            if moment != .taken, let contents = try live.load() { captured.append(contents) }
        }
        var report = try backup(to: destination, progress: progress) { moment in
            try capture(moment)
            if moment == .taken { try afterSnapshot() }
        }
        for refreshes in 0...5 {
            let outcome = try { () throws -> Keyring.BackupOutcome in
                let copy = try BotrixStore(.init(path: destination, readOnly: true))  // closed when this returns
                return try Keyring.writeBackupKeyring(of: environment.path, copy: copy.environment, captured: captured)
            }()
            switch outcome {
            case .notNeeded:
                return KeyedBackup(report: report, keyring: outcome, refreshes: refreshes)
            case .written(let path, let epoch):
                if try secretsEpoch() == epoch {
                    return KeyedBackup(report: report, keyring: outcome, refreshes: refreshes)
                }
                try FileManager.default.removeItem(atPath: path)
            case .epochGone:
                break
            }
            guard refreshes < 5 else { break }
            report.head = try refreshBackup(at: destination, atSnapshot: capture)
        }
        throw BackupFailure(
            description: "deletions kept erasing secrets while the copy was made, six times over: try again")
    }

    /// The epoch `secrets.meta` names now; nil for a file without secrets.
    private func secretsEpoch() throws -> UInt64? {
        do {
            let meta = try environment.database(SecretsLayout.meta, create: false)
            return try environment.read { try $0.get(meta, SecretsLayout.epochKey).flatMap { BigEndian.uint64($0) } }
        } catch let error as any StorageError where error.isMissingDatabase {
            return nil
        }
    }
}
