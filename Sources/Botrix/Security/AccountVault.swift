import Crypto
import EventLog
import Foundation
import Storage
import Synchronization

/// An account id whose data key a batch deleted: the payload of the erasure hook.
struct ErasedAccount: Sendable { let id: Int64 }
/// A payload asking the erasure hook only to finish a keyring rewrite that failed before.
struct ErasureRetry: Sendable {}

/// Keeps each account's data key and seals its secrets; erases them for good on deletion.
///
/// A secret opens as `data key = unwrap(data_keys[id], unwrap(buckets[id % n], root))`,
/// `n` being the file's bucket count (256) and the root the keyring's entry for the epoch
/// in `secrets.meta`. Deleting an account
/// deletes its data key and registers the ``erasureHook``, which, once per batch:
/// 1. before the commit, writes the keyring with the current root *and* a new one (epoch
///    e+1), gives every bucket that lost a key a fresh key (re-wrapping its survivors),
///    re-wraps every bucket key under the new root and sets the epoch to e+1 — in the
///    batch's transaction;
/// 2. after the commit (made durable first), rewrites the keyring with the new root only.
///
/// Only then is the deletion acknowledged. The old data key, the old bucket key and the
/// old root may all linger in freed pages of the data file, but the old root existed only
/// in a keyring version that is now an unlinked inode: no copy taken afterwards opens them.
/// A crash between the steps leaves a two-epoch keyring; opening keeps the epoch the data
/// file names.
final class AccountVault: Sendable {
    let box: SecretBox
    let environment: any StorageEngine
    let keyring: Keyring
    let meta: Database
    let buckets: Database
    let dataKeys: Database
    let state = Mutex(State())
    /// The file's recorded bucket count (`scheme.buckets`), read once at open.
    let bucketCount = Atomic<Int>(SecretsLayout.bucketCount)

    struct State {
        /// Unwrapped roots by epoch: the current one, and the next while a batch commits.
        var roots: [UInt64: SymmetricKey] = [:]
        /// What the keyring must be cut down to after the running batch commits.
        var committing: (epoch: UInt64, root: SymmetricKey, store: String)?
        /// A keyring rewrite after a commit failed; retried by the next write.
        var pending = false
        var retrying = false
        /// Keyring rewrites after a commit that tests make fail, as a full disk would.
        var injectedTrimFailures = 0
    }

    static let hookKey = "secrets.erasure"

    private init(box: SecretBox, environment: any StorageEngine) throws {
        self.box = box
        self.environment = environment
        keyring = Keyring(dataFile: environment.path)
        meta = try environment.database(SecretsLayout.meta)
        buckets = try environment.database(SecretsLayout.buckets)
        dataKeys = try environment.database(SecretsLayout.dataKeys)
    }

    /// Opens the secrets of `store` with `box`, through `writer` (so every keyring write is
    /// ordered with the erasures of other batches): checks the master key against the one
    /// recorded, creates the keyring of a new file, converts a file of the scheme before
    /// keyrings, and finishes an erasure or rotation a crash interrupted.
    /// - Throws: ``SecretBoxError`` naming the file and what to do when the key does not
    ///   match, or the keyring is missing, damaged, of another file or of another epoch.
    static func open(store: BotrixStore, writer: GroupCommitWriter, box: SecretBox) async throws -> AccountVault {
        let vault = try AccountVault(box: box, environment: store.environment)
        // 1. The scheme record (and the fingerprint) go to disk before any keyring is made:
        //    a keyring beside a file without that record then always belongs elsewhere.
        if try await writer.perform({ ltx in try vault.recordScheme(&ltx) }) {
            try store.environment.sync()
        }
        // 2. The keyring: loaded and checked, or created while no key depends on it; then
        //    scheme-1 data keys are converted in one transaction.
        if try await writer.perform({ ltx in try vault.loadKeyring(&ltx) }) {
            // 3. A keyring left with two epochs: keep the one the (durable) data file names.
            try store.environment.sync()
        }
        try await writer.perform { ltx in try vault.trimKeyring(in: ltx.reading) }
        return vault
    }

    // MARK: Keys

    func bucket(of account: Int64) -> UInt8 {
        SecretsLayout.bucket(of: account, among: bucketCount.load(ordering: .relaxed))
    }

    /// bucket | account id: where the account's wrapped data key is.
    func dataKeyKey(_ account: Int64) -> [UInt8] {
        [bucket(of: account)] + BigEndian.bytes(UInt64(bitPattern: account))
    }

    func requireScheme(in txn: some TransactionReading) throws -> SecretsScheme {
        guard let scheme = try SecretsScheme.read(meta, in: txn) else {
            throw SecretBoxError.damaged("secrets.meta has no scheme record")
        }
        return scheme
    }

    func currentEpoch(in txn: some TransactionReading) throws -> UInt64 {
        guard let raw = try txn.get(meta, SecretsLayout.epochKey), let epoch = BigEndian.uint64(raw) else {
            throw SecretBoxError.damaged("secrets.meta has no epoch record")
        }
        return epoch
    }

    func unwrapRoot(_ entry: Keyring.Entry) throws -> SymmetricKey {
        guard entry.master == box.fingerprint else {
            throw SecretBoxError.keyring(
                path: keyring.path,
                problem:
                    "wraps epoch \(entry.epoch) under another master key (fingerprint \(entry.master)) than the one from \(box.source) (\(box.fingerprint))",
                fix: "start with the master key the data file was sealed with")
        }
        guard let root = try? KeyWrap.unwrap(Array(entry.root), under: box.master) else {
            throw SecretBoxError.keyring(
                path: keyring.path, problem: "epoch \(entry.epoch) does not open under the master key (it is damaged)",
                fix: "restore the keyring saved with this data file")
        }
        return root
    }

    /// The root of `epoch`: from memory, else from the keyring file (another process or
    /// vault may have moved on since it was read).
    func root(_ epoch: UInt64) throws -> SymmetricKey {
        if let root = state.withLock({ $0.roots[epoch] }) { return root }
        if let entry = try keyring.load()?.epochs.first(where: { $0.epoch == epoch }) {
            let root = try unwrapRoot(entry)
            state.withLock { $0.roots[epoch] = root }
            return root
        }
        throw RootMissing(keyring: keyring.path, epoch: epoch, dataFile: environment.path)
    }

    func bucketKey(_ bucket: UInt8, root: SymmetricKey, in txn: some TransactionReading) throws
        -> SymmetricKey?
    {
        guard let wrapped = try txn.get(buckets, [bucket]) else { return nil }
        guard let key = try? KeyWrap.unwrap(wrapped, under: root) else {
            throw SecretBoxError.damaged("bucket \(bucket) does not open under the keyring's root")
        }
        return key
    }

    /// The account's data key as of `txn`.
    func dataKey(_ account: Int64, in txn: some TransactionReading) throws -> SymmetricKey {
        guard let wrapped = try txn.get(dataKeys, dataKeyKey(account)) else {
            throw SecretBoxError.keyDestroyed
        }
        let root = try root(try currentEpoch(in: txn))
        guard let bucket = try bucketKey(bucket(of: account), root: root, in: txn),
            let key = try? KeyWrap.unwrap(wrapped, under: bucket)
        else {
            throw SecretBoxError.damaged("the data key of account \(account) does not open under its bucket key")
        }
        return key
    }

    // MARK: Sealing

    /// The events with every password and verification code sealed; new accounts get a
    /// data key (returned, for ``store(_:in:)`` once the events are appended).
    func seal(_ events: [DomainEvent], in ltx: LogTransaction) throws -> (
        events: [DomainEvent], newKeys: [(Int64, SymmetricKey)]
    ) {
        var sealed: [DomainEvent] = []
        var newKeys: [(Int64, SymmetricKey)] = []
        for event in events {
            switch event {
            case .accountCreated(var e):
                let key = box.newDataKey()
                e.password = try box.encrypt(e.password, with: key)
                e.verificationCode = try e.verificationCode.map { try box.encrypt($0, with: key) }
                newKeys.append((e.accountID, key))
                sealed.append(.accountCreated(e))
            case .accountUpdated(var e) where e.password != nil || e.verificationCode != nil:
                let key = try dataKey(e.accountID, in: ltx.reading)
                e.password = try e.password.map { try box.encrypt($0, with: key) }
                e.verificationCode = try e.verificationCode.map { try box.encrypt($0, with: key) }
                sealed.append(.accountUpdated(e))
            default:
                sealed.append(event)
            }
        }
        return (sealed, newKeys)
    }

    /// Stores data keys wrapped under their bucket keys, making a bucket's key on first use.
    func store(_ newKeys: [(Int64, SymmetricKey)], in ltx: inout LogTransaction) throws {
        guard !newKeys.isEmpty else { return }
        let root = try root(try currentEpoch(in: ltx.reading))
        var known: [UInt8: SymmetricKey] = [:]
        for (account, key) in newKeys {
            let bucket = bucket(of: account)
            let bucketKey: SymmetricKey
            if let existing = try known[bucket] ?? self.bucketKey(bucket, root: root, in: ltx.reading) {
                bucketKey = existing
            } else {
                bucketKey = SymmetricKey(size: .bits256)
                try ltx.put(buckets, [bucket], try KeyWrap.wrap(bucketKey, under: root))
            }
            known[bucket] = bucketKey
            try ltx.put(dataKeys, dataKeyKey(account), try KeyWrap.wrap(key, under: bucketKey))
        }
    }

    /// Deletes the account's data key and has the batch erase it for good around its
    /// commit (see the type's documentation).
    func destroy(_ account: Int64, in ltx: inout LogTransaction) throws {
        try ltx.delete(dataKeys, dataKeyKey(account))
        ltx.register(erasureHook, payload: ErasedAccount(id: account))
    }

    /// A sealed secret of an account in plain text.
    func open(_ sealed: String, account: Int64, in txn: some TransactionReading) throws -> String {
        try box.decrypt(sealed, with: try dataKey(account, in: txn))
    }

    /// Runs `body` in a read transaction; when the root of its epoch is already gone (an
    /// erasure committed and trimmed the keyring meanwhile), runs it again on a newer one.
    func reading<R>(_ body: (any TransactionReading) throws -> R) throws -> R {
        var attempts = 0
        while true {
            do {
                return try environment.read(body)
            } catch is RootMissing where attempts < 3 {
                attempts += 1
            }
        }
    }

}

/// The keyring has no root for the epoch a transaction names: either an erasure trimmed
/// it a moment ago (read again) or the keyring does not belong to this data file.
struct RootMissing: Error, CustomStringConvertible {
    let keyring: String
    let epoch: UInt64
    let dataFile: String

    var description: String {
        "keyring \(keyring): has no root for epoch \(epoch), which \(dataFile) uses; restore the keyring saved with this very copy of the data file"
    }
}
