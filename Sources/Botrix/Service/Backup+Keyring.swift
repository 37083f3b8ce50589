import EventLog
import Foundation
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// What ``BotrixStore/makeBackup(to:progress:afterSnapshot:beforePlacing:)`` made.
struct KeyedBackup {
    var report: BackupReport
    /// Where the keyring of the copy is (`DEST-keyring`), when the copy has secrets.
    var keyringPath: String?
    /// Times the copy was brought up to the live file because an erasure committed while it
    /// was made.
    var refreshes: Int
    /// The copy's size in bytes.
    var bytes: Int
}

extension BotrixStore {
    /// Times a backup brings its copy up to an erasure committed meanwhile, at most.
    static let backupRefreshes = 2

    /// Makes `botrix backup`'s copy in the private folder `DEST.partial/` (``BackupFiles``):
    /// built in `work.mdb` (``buildBackup(in:pageSize:progress:atSnapshot:)``), written
    /// compacted to `copy.mdb` with its keyring (`copy.mdb-keyring`: the root of the copy's
    /// epoch only), verified and fsynced, and only then renamed to `DEST-keyring` and `DEST`,
    /// keyring first, never over an existing file. A backup killed at any moment leaves only
    /// `DEST.partial/` (the next backup to `DEST` names it: remove it), or, between the two
    /// renames, `DEST-keyring` alone; a backup that fails removes what it made and nothing
    /// else (``OwnedFiles``), the placed files too when the folder's fsync fails.
    ///
    /// Erasures: the live keyring is read just before and just after each snapshot's read
    /// transaction begins. An erasure writes the next epoch's root before it commits and
    /// drops the old root only after, so the copy's root is in one of the readings unless an
    /// erasure both committed and finished within those microseconds (then the copy is
    /// refreshed and the keyring read again). Once the copy is verified and fsynced, the live
    /// epoch is read again: if an erasure committed after the snapshot, the copy is brought
    /// up to the live file (``refreshBackup(_:atSnapshot:)``) and compacted, keyed, verified
    /// again — at most ``backupRefreshes`` times; under steady deletions the result says how
    /// many deletions the copy does not hold (``deletions(after:)``, counted by the caller
    /// once this returns), and the copy is the file as of its last snapshot. Before, a delete
    /// committed while the copy was made had the whole copy made again, and steady deletions
    /// failed 3 backups in 7.
    ///
    /// `afterSnapshot` runs once the first snapshot is copied, `beforePlacing` after the last
    /// look at the live epoch (tests).
    func makeBackup(
        to destination: String, progress: (UInt64, UInt64) -> Void, afterSnapshot: () throws -> Void = {},
        beforePlacing: () throws -> Void = {}
    ) throws -> KeyedBackup {
        let destination = try BackupFiles.checkedDestination(destination)
        let owned = OwnedFiles()
        let claim = try BackupFiles.claim(destination, owned: owned)
        let working = claim.working
        let pending = claim.pending
        let pendingKeyring = Keyring(dataFile: pending).path
        // Removed while the claim still holds DEST.partial, so no other backup has begun.
        defer {
            claim.emptyFolder()
            owned.removeAll()
        }
        let live = Keyring(dataFile: environment.path)
        var captured: [Keyring.Contents] = []
        func capture(_ moment: SnapshotMoment) throws {
            if moment != .taken, let contents = try live.load() { captured.append(contents) }
        }
        var (copy, report) = try buildBackup(in: working, progress: progress) { moment in
            try capture(moment)
            if moment == .taken { try afterSnapshot() }
        }
        var refreshes = 0
        while true {
            for file in [pending, pendingKeyring] { owned.remove(file) }
            try copy.copy(to: pending, compact: true)
            owned.adopt(pending)
            let outcome = try Self.checkedCopy(pending, of: environment.path, captured: captured, owned: owned)
            let behind: UInt64
            switch outcome {
            case .written(_, let epoch):
                let now = try secretsEpoch() ?? epoch
                behind = now > epoch ? now - epoch : 0
            case .notNeeded: behind = 0
            case .epochGone: behind = 1
            }
            if behind > 0 && refreshes < Self.backupRefreshes {
                refreshes += 1
                report.head = try refreshBackup(copy, atSnapshot: capture)
                continue
            }
            if case .epochGone(let epoch) = outcome {
                throw BackupFailure(
                    description:
                        "the keyring moved past epoch \(epoch) of each copy (deletions are erasing secrets right now): try again"
                )
            }
            try beforePlacing()
            let bytes = (try? FileManager.default.attributesOfItem(atPath: pending)[.size] as? Int) ?? 0
            var keyringPath: String? = nil
            if case .written = outcome {
                let placed = Keyring(dataFile: destination).path
                try BackupFiles.place(pendingKeyring, at: placed)
                owned.moved(pendingKeyring, to: placed)
                keyringPath = placed
            }
            try BackupFiles.place(pending, at: destination)
            owned.moved(pending, to: destination)
            try DurableFile.syncFolder(of: destination)
            // Done: DEST and DEST-keyring are the caller's now.
            owned.release(destination)
            if let keyringPath { owned.release(keyringPath) }
            return KeyedBackup(
                report: report, keyringPath: keyringPath, refreshes: refreshes, bytes: bytes)
        }
    }

    /// Writes the keyring of the copy at `path` beside it from `captured`, verifies the
    /// copy's hash chain and fsyncs it.
    private static func checkedCopy(
        _ path: String, of dataFile: String, captured: [Keyring.Contents], owned: OwnedFiles
    ) throws -> Keyring.BackupOutcome {
        // Single-process: no LMDB lock file, which LMDB would open through a link put there.
        var options = BotrixStore.Options(path: path, readOnly: true)
        options.singleProcess = true
        let copy = try BotrixStore(options)  // closed when this returns
        let outcome = try Keyring.writeBackupKeyring(of: dataFile, copy: copy.environment, captured: captured)
        owned.adopt(Keyring(dataFile: path).path)
        if case .epochGone = outcome { return outcome }
        let report = try copy.log.verify()
        guard report.isIntact else {
            throw BackupFailure(
                description: "the copy at \(path) does not verify: \(report.problems.first.map(\.description) ?? "")")
        }
        try DurableFile.sync(path)
        return outcome
    }

    /// Account deletions in the live log after `head`: `botrix backup` counts those after its
    /// copy's head once all else is done (the copy in place, its working files removed), and
    /// says how many the copy does not hold.
    func deletions(after head: UInt64) throws -> Int {
        var count = 0
        try environment.read { txn in
            try log.forEach(after: head, in: txn) { event in
                if event.type == "AccountDeleted" { count += 1 }
                return true
            }
        }
        return count
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
