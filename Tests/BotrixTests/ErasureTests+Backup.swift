import Dispatch
import Foundation
import TestSupport
import Testing

@testable import Botrix

/// Backups beside erasures: a backup's keyring holds the root of the copy's epoch only.
extension ErasureTests {
    @Test("a backup taken after a delete opens the other accounts but not the deleted one")
    func backupAfterDelete() async throws {
        let (folder, live) = try await Self.liveWithAccounts()
        try await live.service.deleteAccount(id: 1)
        let backup = folder.file("backup.mdb")
        try live.store.environment.copy(to: backup, compact: true)
        let outcome = try {
            let copy = try BotrixStore(.init(path: backup, readOnly: true))
            return try Keyring.writeBackupKeyring(of: folder.file("erase.mdb"), copy: copy.environment)
        }()
        guard case .written(let keyringPath, _) = outcome else {
            Issue.record("no keyring written beside the backup: \(outcome)")
            return
        }
        #expect(keyringPath == backup + "-keyring")
        let sealed = try SealedSecrets(log: live.store.log)
        await live.close()
        let search = try Search(data: backup, keyring: keyringPath)
        #expect(search.opens(sealed.of(1)).isEmpty)
        #expect(search.opens(sealed.of(3)) == Set([Self.secrets[3]!.password, Self.secrets[3]!.code]))
        let restored = try await Opened.open(backup)
        #expect(try restored.service.revealPassword(accountID: 3) == Self.secrets[3]!.password)
        await restored.close()
    }

    @Test("a delete committed while a backup is made is in the backup: the copy is brought up to it, not made again")
    func deleteDuringBackup() async throws {
        let (folder, live) = try await Self.liveWithAccounts()
        let sealed = try SealedSecrets(log: live.store.log)
        let backup = folder.file("backup.mdb")
        let keyed = try await Self.backup(live, to: backup, deletingAccount1: .afterSnapshot)
        #expect(try live.service.revealPassword(accountID: 1) == nil, "the delete did not commit")
        #expect(try live.store.deletions(after: keyed.report.head) == 0)
        let liveHead = try live.store.log.head()
        await live.close()
        #expect(keyed.refreshes == 1)
        #expect(keyed.report.head == liveHead.sequence)
        for leftover in [".partial", ".partial-lock", ".new", ".new-lock", ".new-keyring", "-lock"] {
            #expect(!FileManager.default.fileExists(atPath: backup + leftover), "\(leftover) was left behind")
        }
        let keyringPath = try #require(keyed.keyringPath)
        #expect(keyringPath == backup + "-keyring")
        // The delete was acknowledged before the backup returned: the copy cannot open it.
        let search = try Search(data: backup, keyring: keyringPath)
        #expect(search.opens(sealed.of(1)).isEmpty)
        #expect(search.opens(sealed.of(3)) == Set([Self.secrets[3]!.password, Self.secrets[3]!.code]))
        try {
            let copy = try BotrixStore(.init(path: backup, readOnly: true))  // closed before the next open
            #expect(try copy.log.head() == liveHead)
            #expect(try copy.log.verify().isIntact)
            let projections = try Projections(store: copy)
            #expect(
                try copy.environment.read { try projections.checkpoints(in: $0) }.values.allSatisfy {
                    $0 == liveHead.sequence
                })
        }()
        let restored = try await Opened.open(backup)
        #expect(try restored.service.revealPassword(accountID: 1) == nil)
        #expect(try restored.service.revealPassword(accountID: 3) == Self.secrets[3]!.password)
        await restored.close()
    }

    @Test("a backup makes its files in a private folder, and removes it")
    func privateFolder() async throws {
        let (folder, live) = try await Self.liveWithAccounts()
        let backup = folder.file("backup.mdb")
        _ = try live.store.makeBackup(to: backup, progress: { _, _ in }) {
            let mode = try FileManager.default.attributesOfItem(atPath: backup + ".partial")[.posixPermissions] as? Int
            #expect(mode == 0o700)
            #expect(try FileManager.default.contentsOfDirectory(atPath: backup + ".partial") == ["work.mdb"])
        }
        await live.close()
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("backup") }
        #expect(left.sorted() == ["backup.mdb", "backup.mdb-keyring"], "left: \(left)")
    }

    @Test("a backup makes no LMDB lock file: links put at those names meanwhile are never written through")
    func noLockFiles() async throws {
        let (folder, live) = try await Self.liveWithAccounts()
        let backup = folder.file("backup.mdb")
        let victim = folder.file("victim.txt")
        let precious = Data("another program's data".utf8)
        #expect(FileManager.default.createFile(atPath: victim, contents: precious))
        _ = try live.store.makeBackup(to: backup, progress: { _, _ in }) {
            #expect(!FileManager.default.fileExists(atPath: backup + ".partial-lock"))
            for name in [".partial-lock", ".new-lock"] {
                try FileManager.default.createSymbolicLink(atPath: backup + name, withDestinationPath: victim)
            }
        }
        await live.close()
        #expect(FileManager.default.contents(atPath: victim) == precious)
        for name in [".partial-lock", ".new-lock"] {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: backup + name) == victim)
        }
        #expect(!FileManager.default.fileExists(atPath: backup + ".partial"))
    }

    @Test("a backup never writes over a DEST that appeared while it ran, and leaves nothing of its own")
    func destinationAppeared() async throws {
        let (folder, live) = try await Self.liveWithAccounts()
        let backup = folder.file("backup.mdb")
        let other = Data("another program's file".utf8)
        #expect(throws: BackupFailure.self) {
            _ = try live.store.makeBackup(to: backup, progress: { _, _ in }) {
                #expect(FileManager.default.createFile(atPath: backup, contents: other))
            }
        }
        await live.close()
        #expect(FileManager.default.contents(atPath: backup) == other)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("backup") }
        #expect(left == ["backup.mdb"], "left behind: \(left)")
    }

    @Test("a delete committed after the backup's last look is counted in its result, and is all it lacks")
    func deleteAfterLastLook() async throws {
        let (folder, live) = try await Self.liveWithAccounts()
        let sealed = try SealedSecrets(log: live.store.log)
        let backup = folder.file("backup.mdb")
        let keyed = try await Self.backup(live, to: backup, deletingAccount1: .beforePlacing)
        let deletions = try live.store.deletions(after: keyed.report.head)
        await live.close()
        #expect(keyed.refreshes == 0)
        #expect(deletions == 1)
        let search = try Search(data: backup, keyring: try #require(keyed.keyringPath))
        #expect(search.opens(sealed.of(1)) == Set([Self.secrets[1]!.password, Self.secrets[1]!.code]))
    }

    /// A live store in a new folder with accounts 1, 2, 3 recorded.
    static func liveWithAccounts() async throws -> (TemporaryFolder, Opened) {
        let folder = TemporaryFolder()
        let live = try await Opened.open(folder.file("erase.mdb"))
        try await recordAccounts(live.service)
        return (folder, live)
    }

    /// Where a backup's test hook deletes account 1.
    enum DeleteMoment { case afterSnapshot, beforePlacing }

    /// Makes a backup of `live` on a thread of its own, deleting account 1 through the
    /// service at `moment` (the hook blocks while the delete commits).
    static func backup(_ live: Opened, to backup: String, deletingAccount1 moment: DeleteMoment) async throws
        -> KeyedBackup
    {
        let store = live.store
        let service = live.service
        let delete: @Sendable () -> Void = {
            let deleted = DispatchSemaphore(value: 0)
            Task {
                try? await service.deleteAccount(id: 1)
                deleted.signal()
            }
            deleted.wait()
        }
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<KeyedBackup, any Error>) in
            DispatchQueue.global().async {
                done.resume(
                    with: Result {
                        try store.makeBackup(
                            to: backup, progress: { _, _ in },
                            afterSnapshot: { if moment == .afterSnapshot { delete() } },
                            beforePlacing: { if moment == .beforePlacing { delete() } })
                    })
            }
        }
    }
}
