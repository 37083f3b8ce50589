import CCryptoBoringSSL
import Crypto
import EventLog
import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// Erasure against a copy: after a deletion is acknowledged, a plain copy of the data file
/// and of the keyring, plus the master key, must open nothing of the account — checked by
/// the vault and by a brute-force search of the copied bytes that knows nothing of the
/// layout. A copy taken before the deletion is the control: the same search finds the
/// password there, so finding nothing afterwards means something.
@Suite("Erasure", .serialized)
struct ErasureTests {
    static let master: [UInt8] = (0..<32).map { UInt8(($0 * 7 + 3) % 256) }
    static let secrets: [Int64: (password: String, code: String)] = [
        1: ("Erase-Me-Password-1", "CODE-ERASE-111"),
        2: ("Keep-Me-Password-2", "CODE-KEEP-222"),
        3: ("Keep-Me-Password-3", "CODE-KEEP-333"),
    ]

    /// Opens the store at `path` once this process's previous owner let go of it (a writer
    /// thread drops the environment a moment after `shutdown()`).
    static func openStore(_ path: String) throws -> BotrixStore {
        try retryingWhileOpen { try BotrixStore(.init(path: path, mapSize: 1 << 24, durability: .full)) }
    }

    /// A service on `path` with the test master key.
    struct Opened {
        let store: BotrixStore
        let writer: GroupCommitWriter
        let service: BotrixService

        /// - Parameter buckets: on a new file, record this bucket count instead of 256, so that
        ///   accounts 1 and 3 share a bucket (with 2) and an erasure must re-key a survivor.
        static func open(_ path: String, buckets: Int? = nil) async throws -> Opened {
            let store = try ErasureTests.openStore(path)
            if let buckets { try seedScheme(store.environment, buckets: buckets) }
            let writer = try store.makeWriter()
            let service = try await BotrixService(
                store: store, writer: writer,
                secrets: try SecretBox(masterKey: ErasureTests.master, source: "the test key"))
            return Opened(store: store, writer: writer, service: service)
        }

        func close() async { await writer.shutdown() }

        /// Opens `path`, runs `body`, and closes it again, so the next open of the same file
        /// finds it released.
        static func with<R>(_ path: String, buckets: Int? = nil, _ body: (Opened) async throws -> R) async throws
            -> R
        {
            let opened = try await open(path, buckets: buckets)
            do {
                let result = try await body(opened)
                await opened.close()
                return result
            } catch {
                await opened.close()
                throw error
            }
        }
    }

    /// Records the secrets scheme of a new file the way the vault would, but with `buckets`.
    static func seedScheme(_ environment: any StorageEngine, buckets: Int) throws {
        let meta = try environment.database("secrets.meta")
        let scheme: [String: Any] = [
            "buckets": buckets, "legacy_keys": false, "master": try SecretBox(masterKey: master).fingerprint,
            "scheme": 2, "store": "00112233445566778899aabbccddeeff",
        ]
        let json = Array(try JSONSerialization.data(withJSONObject: scheme, options: [.sortedKeys]))
        try environment.write { txn in
            guard try txn.get(meta, Array("scheme".utf8)) == nil else { return }
            try txn.put(meta, Array("scheme".utf8), json)
            try txn.put(meta, Array("epoch".utf8), BigEndian.bytes(1))
        }
    }

    /// Accounts 1, 2, 3 with the passwords and codes of ``secrets``.
    static func recordAccounts(_ service: BotrixService) async throws {
        let job = try await service.createJob(CreateJob(count: 3))
        _ = try await service.claimNext(workerID: "w")
        for id in 1...3 {
            let secret = secrets[Int64(id)]!
            let view = try await service.recordAccount(
                RecordAccount(
                    jobID: job.id, workerID: "w", email: "e\(id)@example.com", username: "erase\(id)",
                    password: secret.password, birthdate: "1990-01-01", verificationCode: secret.code))
            #expect(view.id == Int64(id))
        }
    }

    /// Copies `path` and its keyring with plain file copies (what `cp` would take).
    static func copyFiles(_ path: String, to copy: String) throws {
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-keyring", toPath: copy + "-keyring")
    }

    @Test("after a delete, copies of the data file and keyring open nothing of the account; a copy from before does")
    func copyAfterDelete() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("erase.mdb")
        let live = try await Opened.open(path, buckets: 2)  // accounts 1 and 3 share bucket 1
        try await Self.recordAccounts(live.service)
        let before = folder.file("before.mdb")
        try Self.copyFiles(path, to: before)

        try await live.service.deleteAccount(id: 1)
        let after = folder.file("after.mdb")
        try Self.copyFiles(path, to: after)
        // Others still open, on the live file.
        #expect(try live.service.revealPassword(accountID: 2) == Self.secrets[2]!.password)
        #expect(try live.service.revealVerificationCode(accountID: 3) == Self.secrets[3]!.code)
        #expect(try live.service.revealPassword(accountID: 1) == nil)
        let sealed = try SealedSecrets(log: live.store.log)
        #expect(sealed.of(1).count == 2, "the sealed password and code of account 1 are still in the log")

        // The keyring holds one epoch, the one the data file names.
        let keyring = try KeyringCopy(path + "-keyring")
        #expect(keyring.epochs.count == 1)

        // Control: the search recovers the password from the copy taken before the delete.
        let control = try Search(data: before, keyring: before + "-keyring")
        #expect(control.opens(sealed.of(1)) == Set([Self.secrets[1]!.password, Self.secrets[1]!.code]))

        // The copy taken after: nothing of account 1 opens, accounts 2 and 3 still do.
        let search = try Search(data: after, keyring: after + "-keyring")
        #expect(search.opens(sealed.of(1)).isEmpty, "the erased secrets opened from a copy taken after the delete")
        #expect(search.opens(sealed.of(2)) == Set([Self.secrets[2]!.password, Self.secrets[2]!.code]))
        #expect(search.opens(sealed.of(3)) == Set([Self.secrets[3]!.password, Self.secrets[3]!.code]))

        // The threat is real: the stale bytes of the after-copy hold account 1's old keys, which
        // the root of the earlier keyring opens. Only that root's absence protects the account.
        let stale = try Search(data: after, keyring: before + "-keyring")
        #expect(stale.opens(sealed.of(1)).contains(Self.secrets[1]!.password))

        // The vault, on the copy, with the master key.
        await live.close()
        let copy = try await Opened.open(after)
        #expect(try copy.service.revealPassword(accountID: 1) == nil)
        #expect(throws: SecretBoxError.self) {
            _ = try copy.store.environment.read { try copy.service.vault.dataKey(1, in: $0) }
        }
        #expect(try copy.service.revealPassword(accountID: 2) == Self.secrets[2]!.password)
        #expect(try copy.service.revealPassword(accountID: 3) == Self.secrets[3]!.password)  // bucket-mate of 1
        await copy.close()
    }

    @Test("a crash after the commit (keyring with both epochs) is finished on reopen; the old root is gone")
    func crashAfterCommit() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("erase.mdb")
        let (old, new, sealed) = try await Opened.with(path, buckets: 2) { live async throws in
            try await Self.recordAccounts(live.service)
            let old = try KeyringCopy(path + "-keyring")
            try await live.service.deleteAccount(id: 1)
            return (old, try KeyringCopy(path + "-keyring"), try SealedSecrets(log: live.store.log))
        }
        #expect(new.epochs.map(\.epoch) == old.epochs.map { $0.epoch + 1 })
        // What the keyring is between the commit and the final rewrite.
        try KeyringCopy.write(old.merged(with: new), to: path + "-keyring")

        try await Opened.with(path) { live async throws in
            #expect(try KeyringCopy(path + "-keyring").epochs == new.epochs)
            #expect(try live.service.revealPassword(accountID: 2) == Self.secrets[2]!.password)
        }
        let after = folder.file("after.mdb")
        try Self.copyFiles(path, to: after)
        #expect(try Search(data: after, keyring: after + "-keyring").opens(sealed.of(1)).isEmpty)
    }

    @Test("a crash before the commit (keyring with a next epoch the file never reached) keeps the current epoch")
    func crashBeforeCommit() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("erase.mdb")
        try await Opened.with(path) { try await Self.recordAccounts($0.service) }
        let current = try KeyringCopy(path + "-keyring")
        let next = try KeyringCopy.fabricated(
            epoch: current.epochs[0].epoch + 1, store: current.store, master: Self.master)
        try KeyringCopy.write(current.merged(with: next), to: path + "-keyring")
        try Data("stale".utf8).write(to: URL(fileURLWithPath: path + "-keyring.tmp"))

        try await Opened.with(path) { live async throws in
            #expect(try KeyringCopy(path + "-keyring").epochs == current.epochs)
            #expect(
                !FileManager.default.fileExists(atPath: path + "-keyring.tmp"), "a leftover temporary keyring stays")
            #expect(try live.service.revealPassword(accountID: 1) == Self.secrets[1]!.password)
        }
    }

    @Test("when the keyring rewrite after the commit fails, the delete says so, and the next write finishes it")
    func pendingErasure() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("erase.mdb")
        let live = try await Opened.open(path, buckets: 2)
        try await Self.recordAccounts(live.service)
        let sealed = try SealedSecrets(log: live.store.log)
        live.service.vault.injectTrimFailures(1)
        do {
            try await live.service.deleteAccount(id: 1)
            Issue.record("the delete was acknowledged although the keyring still holds the old root")
        } catch let error as SecretBoxError {
            guard case .erasurePending(let accounts, _, _) = error else { throw error }
            #expect(accounts == [1])
            #expect(error.description.contains("deleted, but erasing the secrets is pending"))
        }
        #expect(try live.service.account(1) == nil, "the deletion itself is committed")
        #expect(try KeyringCopy(path + "-keyring").epochs.count == 2)
        _ = try await live.service.createJob(CreateJob(count: 1))  // any write retries the rewrite
        let deadline = Date().addingTimeInterval(120)
        // The flag clears only after the file is rewritten, so wait on the flag, then check the file.
        while live.service.vault.erasurePending && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!live.service.vault.erasurePending)
        #expect(try KeyringCopy(path + "-keyring").epochs.count == 1)
        let after = folder.file("after.mdb")
        try Self.copyFiles(path, to: after)
        await live.close()
        #expect(try Search(data: after, keyring: after + "-keyring").opens(sealed.of(1)).isEmpty)
    }

    @Test("several deletes in a row each move the epoch; every deleted account stays closed")
    func repeatedDeletes() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("erase.mdb")
        let live = try await Opened.open(path)
        try await Self.recordAccounts(live.service)
        async let first: Void = live.service.deleteAccount(id: 1)
        async let second: Void = live.service.deleteAccount(id: 3)
        _ = try await (first, second)
        #expect(try live.service.revealPassword(accountID: 2) == Self.secrets[2]!.password)
        _ = try await live.service.updateAccount(UpdateAccount(accountID: 2, password: "Changed-Password-2"))
        #expect(try live.service.revealPassword(accountID: 2) == "Changed-Password-2")
        let sealed = try SealedSecrets(log: live.store.log)
        let after = folder.file("after.mdb")
        try Self.copyFiles(path, to: after)
        await live.close()
        let search = try Search(data: after, keyring: after + "-keyring")
        #expect(search.opens(sealed.of(1)).isEmpty && search.opens(sealed.of(3)).isEmpty)
        #expect(search.opens(sealed.of(2)).contains("Changed-Password-2"))
    }

    @Test("opening refuses a missing, damaged, foreign or out-of-date keyring and a wrong key, and changes nothing")
    func refusals() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("erase.mdb")
        let keyringPath = path + "-keyring"
        let beforeDelete = try await Opened.with(path) { live async throws in
            try await Self.recordAccounts(live.service)
            let keyring = try Data(contentsOf: URL(fileURLWithPath: keyringPath))
            try await live.service.deleteAccount(id: 1)
            return keyring
        }
        let good = try Data(contentsOf: URL(fileURLWithPath: keyringPath))

        func refusal(_ expected: String, box: SecretBox? = nil, file: String? = nil) async throws {
            let store = try Self.openStore(file ?? path)
            let writer = try store.makeWriter()
            do {
                _ = try await BotrixService(
                    store: store, writer: writer, secrets: try box ?? SecretBox(masterKey: Self.master))
                Issue.record("opened although \(expected)")
            } catch let error as SecretBoxError {
                #expect(error.description.contains(expected), "\(error)")
            }
            await writer.shutdown()
        }
        try FileManager.default.removeItem(atPath: keyringPath)
        try await refusal("keyring \(keyringPath): is missing")
        #expect(!FileManager.default.fileExists(atPath: keyringPath), "a keyring was made up")

        let garbage = Data("{\"not\": \"a keyring\"}\n".utf8)
        try garbage.write(to: URL(fileURLWithPath: keyringPath))
        try await refusal("does not parse")
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyringPath)) == garbage, "the damaged keyring was replaced")

        try beforeDelete.write(to: URL(fileURLWithPath: keyringPath))
        try await refusal("has no root for epoch")
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyringPath)) == beforeDelete)

        var foreign = try KeyringCopy(keyringPath)
        foreign.store = String(repeating: "0", count: 32)
        try KeyringCopy.write(foreign, to: keyringPath)
        try await refusal("belongs to another data file")

        try good.write(to: URL(fileURLWithPath: keyringPath))
        let other = try SecretBox(masterKey: Array(repeating: 1, count: 32), source: "BOTRIX_MASTER_KEY")
        try await refusal(
            "the master key from BOTRIX_MASTER_KEY (fingerprint \(other.fingerprint)) does not match", box: other)
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyringPath)) == good)
        try await Opened.with(path) { live async throws in
            #expect(try live.service.revealPassword(accountID: 2) == Self.secrets[2]!.password)
        }

        // A keyring beside a data file that never had secrets belongs to another file.
        let fresh = folder.file("fresh.mdb")
        try good.write(to: URL(fileURLWithPath: fresh + "-keyring"))
        try await refusal("belongs to another data file", file: fresh)
    }

    @Test("a file of the scheme before keyrings is converted on open, and its secrets still open")
    func migration() async throws {
        let folder = TemporaryFolder()
        let path = folder.file("old.mdb")
        let dataKeys = try await Opened.with(path) { live async throws in
            try await Self.recordAccounts(live.service)
            return try (1...3).map { id in
                try live.store.environment.read { try live.service.vault.dataKey(Int64(id), in: $0) }
            }
        }
        // Turn the file into the old scheme: data keys wrapped directly under the master key
        // at 8-byte account ids, no meta, no buckets, no keyring.
        do {
            let store = try Self.openStore(path)
            let env = store.environment
            let meta = try env.database("secrets.meta")
            let buckets = try env.database("secrets.buckets")
            let keys = try env.database("secrets.data_keys")
            let master = SymmetricKey(data: Self.master)
            try env.write { txn in
                try txn.clear(meta)
                try txn.clear(buckets)
                try txn.clear(keys)
                for (index, key) in dataKeys.enumerated() {
                    let raw = key.withUnsafeBytes { Array($0) }
                    let wrapped = Array(try AES.GCM.seal(raw, using: master).combined!)
                    try txn.put(keys, BigEndian.bytes(UInt64(index + 1)), wrapped)
                }
            }
        }
        try FileManager.default.removeItem(atPath: path + "-keyring")

        try await Opened.with(path) { live async throws in
            for id in Int64(1)...3 {
                #expect(try live.service.revealPassword(accountID: id) == Self.secrets[id]!.password)
            }
            #expect(try KeyringCopy(path + "-keyring").epochs.count == 1)
            let keys = try live.store.environment.database("secrets.data_keys")
            let sizes = try live.store.environment.read { txn in
                try txn.withCursor(keys) { cursor in
                    var sizes: [Int] = []
                    var entry = try cursor.first()
                    while let e = entry {
                        sizes.append(e.key.count)
                        entry = try cursor.next()
                    }
                    return sizes
                }
            }
            #expect(sizes == [9, 9, 9], "the data keys were not all converted")
            try await live.service.deleteAccount(id: 2)
            #expect(try live.service.revealPassword(accountID: 3) == Self.secrets[3]!.password)
        }
    }
}
