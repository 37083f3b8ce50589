import EventLog
import Foundation
import Storage

#if canImport(CFiles)
    import CFiles
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// What ``BotrixStore/makeBackup(to:progress:afterSnapshot:beforePlacing:)`` made.
struct KeyedBackup {
    var report: BackupReport
    var keyring: Keyring.BackupOutcome
    /// Where the keyring of the copy is (`DEST-keyring`), when the copy has secrets.
    var keyringPath: String?
    /// Times the copy was brought up to the live file because an erasure committed while it
    /// was made.
    var refreshes: Int
    /// Account deletions in the live log after the copy's head, counted once the copy is in
    /// place: deletions acknowledged before the backup returned that are not in it (0 but
    /// under steady deletions: the copy is refreshed twice at most).
    var deletionsAfter: Int
    /// The copy's size in bytes.
    var bytes: Int
}

extension BotrixStore {
    /// Times a backup brings its copy up to an erasure committed meanwhile, at most.
    static let backupRefreshes = 2

    /// Makes `botrix backup`'s copy: built in `DEST.partial` (``buildBackup(in:pageSize:progress:atSnapshot:)``),
    /// written compacted to `DEST.new` with its keyring (`DEST.new-keyring`: the root of the
    /// copy's epoch only), verified and fsynced, and only then renamed to `DEST` and
    /// `DEST-keyring`, keyring first, never over an existing file. A backup killed at any
    /// moment leaves only `DEST.*` files (the next backup to `DEST` starts over in them); a
    /// backup that fails removes them.
    ///
    /// Erasures: the live keyring is read just before and just after each snapshot's read
    /// transaction begins. An erasure writes the next epoch's root before it commits and
    /// drops the old root only after, so the copy's root is in one of the readings unless an
    /// erasure both committed and finished within those microseconds (then the copy is
    /// refreshed and the keyring read again). Once the copy is verified and fsynced, the live
    /// epoch is read again: if an erasure committed after the snapshot, the copy is brought
    /// up to the live file (``refreshBackup(_:atSnapshot:)``) and compacted, keyed, verified
    /// again — at most ``backupRefreshes`` times; under steady deletions the result says how
    /// many deletions the copy does not hold (`deletionsAfter`, counted in the live log once
    /// the copy is in place), and the copy is the file as of its last snapshot. Before, a delete committed while the copy was made had the whole
    /// copy made again, and steady deletions failed 3 backups in 7.
    ///
    /// `afterSnapshot` runs once the first snapshot is copied, `beforePlacing` after the last
    /// look at the live epoch (tests).
    func makeBackup(
        to destination: String, progress: (UInt64, UInt64) -> Void, afterSnapshot: () throws -> Void = {},
        beforePlacing: () throws -> Void = {}
    ) throws -> KeyedBackup {
        let claim = try BackupFiles.claim(destination)
        let working = claim.working
        let pending = destination + ".new"
        let pendingKeyring = Keyring(dataFile: pending).path
        let pendingFiles = [pending, pending + "-lock", pendingKeyring]
        // A stopped backup's files are this one's to remove; anyone else's are left alone.
        if !claim.leftover, let found = pendingFiles.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            withExtendedLifetime(claim) { BackupFiles.remove([working]) }
            throw BackupFailure(description: "\(found) exists and is not a backup's: remove it or choose another name")
        }
        defer {
            // Removed while the claim still holds DEST.partial, so no other backup has begun.
            withExtendedLifetime(claim) {
                BackupFiles.remove([working, working + "-lock", pending, pending + "-lock", pendingKeyring])
            }
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
            BackupFiles.remove([pending, pending + "-lock", pendingKeyring])
            try copy.copy(to: pending, compact: true)
            let outcome = try Self.checkedCopy(pending, of: environment.path, captured: captured)
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
            let bytes = (try? FileManager.default.attributesOfItem(atPath: pending)[.size] as? Int) ?? 0
            try beforePlacing()
            // The copy holds what the live file holds (accounts, emails): readable by its owner only.
            chmod(pending, 0o600)
            var keyringPath: String? = nil
            if case .written = outcome {
                keyringPath = Keyring(dataFile: destination).path
                try BackupFiles.place(pendingKeyring, at: keyringPath!)
            }
            do {
                try BackupFiles.place(pending, at: destination)
            } catch {
                if let keyringPath { BackupFiles.remove([keyringPath]) }  // placed by this backup just now
                throw error
            }
            try DurableFile.syncFolder(of: destination)
            return KeyedBackup(
                report: report, keyring: outcome, keyringPath: keyringPath, refreshes: refreshes,
                deletionsAfter: try deletions(after: report.head), bytes: bytes)
        }
    }

    /// Writes the keyring of the copy at `path` beside it from `captured`, verifies the
    /// copy's hash chain and fsyncs it.
    private static func checkedCopy(_ path: String, of dataFile: String, captured: [Keyring.Contents]) throws
        -> Keyring.BackupOutcome
    {
        defer { BackupFiles.remove([path + "-lock"]) }
        let copy = try BotrixStore(.init(path: path, readOnly: true))  // closed when this returns
        let outcome = try Keyring.writeBackupKeyring(of: dataFile, copy: copy.environment, captured: captured)
        if case .epochGone = outcome { return outcome }
        let report = try copy.log.verify()
        guard report.isIntact else {
            throw BackupFailure(
                description: "the copy at \(path) does not verify: \(report.problems.first.map(\.description) ?? "")")
        }
        try DurableFile.sync(path)
        return outcome
    }

    /// Account deletions in the live log after `head`, read last, once the copy is in place.
    private func deletions(after head: UInt64) throws -> Int {
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

extension BackupFiles {
    /// Gives the finished file at `from` the name `to`, never over an existing file:
    /// `renameat2(RENAME_NOREPLACE)`, or where the file system cannot promise that, a hard
    /// link (refused when `to` exists) and the old name removed. Where it can do neither, the
    /// backup fails rather than risk another program's file.
    static func place(_ from: String, at to: String) throws {
        if botrix_rename_noreplace(from, to) == 0 { return }
        var code = errno
        if code == EINVAL || code == ENOSYS {
            if link(from, to) == 0 {
                unlink(from)
                return
            }
            code = errno
        }
        throw BackupFailure(
            description: code == EEXIST
                ? "\(to) appeared while the backup ran: the copy was not put in its place"
                : "cannot name the copy \(to) without risking a file there (\(String(cString: strerror(code)))): "
                    + "choose a folder on another file system")
    }
}
