import Crypto
import EventLog
import Foundation
import LMDB
import Synchronization

/// Where the secrets' keys live in LMDB.
///
/// - `secrets.meta`: `epoch` (8 bytes, big-endian: which keyring root wraps the bucket
///   keys) and `scheme` (JSON: scheme version, the data file's random store id, the master
///   key's fingerprint).
/// - `secrets.buckets`: bucket number (1 byte) → bucket key wrapped under the epoch root.
/// - `secrets.data_keys`: bucket (1 byte) | account id (8 bytes, big-endian) → the
///   account's data key wrapped under its bucket key. The bucket first, so erasing an
///   account re-wraps only its bucket's keys, found by one cursor range.
enum SecretsLayout {
    static let meta = "secrets.meta"
    static let buckets = "secrets.buckets"
    static let dataKeys = "secrets.data_keys"
    static let epochKey = Array("epoch".utf8)
    static let schemeKey = Array("scheme".utf8)
    /// Buckets of a new file. Each erasure gives one bucket a new key (re-wrapping about
    /// 1/256 of the data keys) and re-wraps at most 256 bucket keys under the new root: both
    /// stay small. The count is recorded per file (`scheme.buckets`, 1...256: one key byte).
    static let bucketCount = 256

    static func bucket(of account: Int64, among count: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: UInt64(bitPattern: account) % UInt64(count))
    }
}

/// The `scheme` record of `secrets.meta`.
struct SecretsScheme: Codable, Sendable {
    /// 2: keyring roots → bucket keys → data keys. (1, never written as a record: data keys
    /// wrapped directly under the master key, before keyrings existed.)
    var scheme: Int
    /// Random id shared with the keyring, so a keyring of another data file is refused.
    var store: String
    /// ``SecretBox/fingerprint`` of the master key wrapping the current epoch's root.
    var master: String
    var buckets: Int
    /// True between recording this record on a scheme-1 file and converting its data keys.
    var legacyKeys: Bool

    enum CodingKeys: String, CodingKey {
        case scheme, store, master, buckets
        case legacyKeys = "legacy_keys"
    }

    static let current = 2

    static func read(_ meta: Database, in txn: some TransactionReading) throws -> SecretsScheme? {
        guard let raw = try txn.get(meta, SecretsLayout.schemeKey) else { return nil }
        guard let scheme = try? JSONDecoder().decode(SecretsScheme.self, from: Data(raw)) else {
            throw SecretBoxError.damaged("the secrets.meta scheme record does not parse")
        }
        return scheme
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(self))
    }
}

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
    let environment: Environment
    let keyring: Keyring
    let meta: Database
    let buckets: Database
    let dataKeys: Database
    private let state = Mutex(State())
    /// The file's recorded bucket count (`scheme.buckets`), read once at open.
    private let bucketCount = Atomic<Int>(SecretsLayout.bucketCount)

    private struct State {
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

    private init(box: SecretBox, environment: Environment) throws {
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

    // MARK: Opening

    /// Checks the recorded fingerprint, or records the scheme on a file that has none.
    /// - Returns: true when it wrote the record.
    private func recordScheme(_ ltx: inout LogTransaction) throws -> Bool {
        let txn = ltx.reading
        if let scheme = try SecretsScheme.read(meta, in: txn) {
            guard scheme.scheme == SecretsScheme.current else {
                throw SecretBoxError.damaged(
                    "scheme \(scheme.scheme) in \(environment.path) is not one this Botrix knows: use the version that wrote it"
                )
            }
            guard scheme.master == box.fingerprint else {
                throw SecretBoxError.wrongMasterKey(
                    source: box.source, fingerprint: box.fingerprint, expected: scheme.master,
                    dataFile: environment.path)
            }
            return false
        }
        if try keyring.load() != nil {
            throw SecretBoxError.keyring(
                path: keyring.path,
                problem: "exists, but \(environment.path) has no secrets record: it belongs to another data file",
                fix: "move it away (keep it with the data file it belongs to) and start again")
        }
        // Scheme 1: data keys wrapped directly under the master key. Check the key opens them.
        let legacy = try txn.withCursor(dataKeys) { try $0.first()?.copied.value }
        if let legacy, (try? KeyWrap.unwrap(legacy, under: box.master)) == nil {
            throw SecretBoxError.wrongMasterKey(
                source: box.source, fingerprint: box.fingerprint, expected: "unrecorded (made before keyrings)",
                dataFile: environment.path)
        }
        let store = SymmetricKey(size: .bits128).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        let scheme = SecretsScheme(
            scheme: SecretsScheme.current, store: store, master: box.fingerprint,
            buckets: SecretsLayout.bucketCount, legacyKeys: legacy != nil)
        try ltx.put(meta, SecretsLayout.schemeKey, scheme.encoded())
        try ltx.put(meta, SecretsLayout.epochKey, BigEndian.bytes(1))
        return true
    }

    /// Loads the root of the file's epoch (creating the keyring when no key depends on
    /// one yet), then converts scheme-1 data keys.
    /// - Returns: true when the keyring holds other epochs too.
    private func loadKeyring(_ ltx: inout LogTransaction) throws -> Bool {
        let txn = ltx.reading
        let scheme = try requireScheme(in: txn)
        let epoch = try currentEpoch(in: txn)
        var contents: Keyring.Contents
        if let loaded = try keyring.load() {
            contents = loaded
        } else {
            guard try txn.count(buckets) == 0 else {
                throw SecretBoxError.keyring(
                    path: keyring.path,
                    problem:
                        "is missing, and \(environment.path) holds account secrets wrapped under its epoch \(epoch)",
                    fix:
                        "restore the keyring saved with this data file (`botrix backup` writes <copy>-keyring beside the copy); without it those secrets cannot be read"
                )
            }
            contents = Keyring.Contents(
                format: Keyring.format, store: scheme.store,
                epochs: [try Keyring.Entry(epoch: epoch, root: SymmetricKey(size: .bits256), under: box)])
            try keyring.create(contents)
        }
        guard contents.store == scheme.store else {
            throw SecretBoxError.keyring(
                path: keyring.path,
                problem:
                    "belongs to another data file (store \(contents.store); \(environment.path) is \(scheme.store))",
                fix: "put the keyring saved with this data file in its place")
        }
        guard let entry = contents.epochs.first(where: { $0.epoch == epoch }) else {
            let held = contents.epochs.map { String($0.epoch) }.joined(separator: ", ")
            throw SecretBoxError.keyring(
                path: keyring.path,
                problem: "has no root for epoch \(epoch), which \(environment.path) uses (it holds epoch \(held))",
                fix:
                    "restore the keyring saved with this very copy of the data file; one from an older or newer copy does not fit"
            )
        }
        let root = try unwrapRoot(entry)
        state.withLock { $0.roots = [epoch: root] }
        guard (1...256).contains(scheme.buckets) else {
            throw SecretBoxError.damaged("the scheme record counts \(scheme.buckets) buckets (1 to 256 fit)")
        }
        bucketCount.store(scheme.buckets, ordering: .relaxed)
        if scheme.legacyKeys { try convertLegacyKeys(&ltx, scheme: scheme) }
        return contents.epochs.count > 1
    }

    /// Rewrites the keyring with only the epoch `txn` names when it holds more, and removes
    /// a temporary file a crash left. Call only once that epoch is durable in LMDB.
    private func trimKeyring(in txn: some TransactionReading) throws {
        try keyring.removeLeftover()
        let epoch = try currentEpoch(in: txn)
        guard let contents = try keyring.load(), contents.epochs.count > 1,
            let entry = contents.epochs.first(where: { $0.epoch == epoch })
        else { return }
        try keyring.replace(Keyring.Contents(format: Keyring.format, store: contents.store, epochs: [entry]))
        let root = try unwrapRoot(entry)
        state.withLock { $0.roots = [epoch: root] }
    }

    /// Scheme 1 → 2 in the open's transaction: every data key unwrapped with the master
    /// key, re-wrapped under its bucket key. (The old master-wrapped copies may linger in
    /// freed pages of this file: see README, the limits of erasure.)
    private func convertLegacyKeys(_ ltx: inout LogTransaction, scheme: SecretsScheme) throws {
        var keys: [(Int64, SymmetricKey)] = []
        try ltx.reading.withCursor(dataKeys) { cursor in
            var entry = try cursor.first()
            while let e = entry {
                let (key, value) = e.copied
                guard key.count == 8, let id = BigEndian.uint64(key) else {
                    throw SecretBoxError.damaged("a data key of the old scheme has a \(key.count)-byte key")
                }
                keys.append((Int64(bitPattern: id), try KeyWrap.unwrap(value, under: box.master)))
                entry = try cursor.next()
            }
        }
        try ltx.clear(dataKeys)
        try store(keys, in: &ltx)
        var converted = scheme
        converted.legacyKeys = false
        try ltx.put(meta, SecretsLayout.schemeKey, converted.encoded())
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

    private func bucketKey(_ bucket: UInt8, root: SymmetricKey, in txn: some TransactionReading) throws
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
    func reading<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        var attempts = 0
        while true {
            do {
                return try environment.read(body)
            } catch is RootMissing where attempts < 3 {
                attempts += 1
            }
        }
    }

    // MARK: Erasure

    /// The hook every deletion registers; one run per batch, whatever its number of deletions.
    var erasureHook: CommitHook {
        CommitHook(
            key: Self.hookKey,
            beforeCommit: { [self] ltx, payloads in
                try rekey(&ltx, erased: payloads.compactMap { ($0 as? ErasedAccount)?.id })
            },
            afterCommit: { [self] payloads in
                try trimAfterCommit(erased: payloads.compactMap { ($0 as? ErasedAccount)?.id })
            })
    }

    /// Step 1 of an erasure, in the batch's transaction (see the type's documentation).
    private func rekey(_ ltx: inout LogTransaction, erased: [Int64]) throws {
        let txn = ltx.reading
        let epoch = try currentEpoch(in: txn)
        let root = try root(epoch)
        let store = try requireScheme(in: txn).store
        guard !erased.isEmpty else {  // a retry: only the keyring needs cutting down
            state.withLock { $0.committing = (epoch, root, store) }
            return
        }
        let next = epoch + 1
        let newRoot = SymmetricKey(size: .bits256)
        // Every bucket key, then fresh keys for the buckets that lost a data key.
        var keys: [UInt8: SymmetricKey] = [:]
        try txn.withCursor(buckets) { cursor in
            var entry = try cursor.first()
            while let e = entry {
                let (key, value) = e.copied
                guard key.count == 1, let bucketKey = try? KeyWrap.unwrap(value, under: root) else {
                    throw SecretBoxError.damaged("a bucket key does not open under the keyring's root")
                }
                keys[key[0]] = bucketKey
                entry = try cursor.next()
            }
        }
        var rewrapped: [([UInt8], [UInt8])] = []
        var emptied: [UInt8] = []
        for bucket in Set(erased.map(bucket(of:))).sorted() {
            let survivors = try entries(inBucket: bucket, in: txn)
            guard !survivors.isEmpty else {
                keys[bucket] = nil
                emptied.append(bucket)
                continue
            }
            guard let old = keys[bucket] else {
                throw SecretBoxError.damaged("bucket \(bucket) holds data keys but has no key")
            }
            let fresh = SymmetricKey(size: .bits256)
            for (key, wrapped) in survivors {
                guard let dataKey = try? KeyWrap.unwrap(wrapped, under: old) else {
                    throw SecretBoxError.damaged("a data key in bucket \(bucket) does not open under its bucket key")
                }
                rewrapped.append((key, try KeyWrap.wrap(dataKey, under: fresh)))
            }
            keys[bucket] = fresh
        }
        // Both roots on disk before the transaction can commit epoch e+1.
        try keyring.replace(
            Keyring.Contents(
                format: Keyring.format, store: store,
                epochs: [
                    try Keyring.Entry(epoch: epoch, root: root, under: box),
                    try Keyring.Entry(epoch: next, root: newRoot, under: box),
                ]))
        state.withLock { $0.roots[next] = newRoot }
        for (key, value) in rewrapped { try ltx.put(dataKeys, key, value) }
        for bucket in emptied { try ltx.delete(buckets, [bucket]) }
        for (bucket, key) in keys.sorted(by: { $0.key < $1.key }) {
            try ltx.put(buckets, [bucket], try KeyWrap.wrap(key, under: newRoot))
        }
        try ltx.put(meta, SecretsLayout.epochKey, BigEndian.bytes(next))
        state.withLock { $0.committing = (next, newRoot, store) }
    }

    /// Step 2 of an erasure, after the commit: the keyring with the new root only.
    private func trimAfterCommit(erased: [Int64]) throws {
        guard let committing = state.withLock({ $0.committing }) else { return }
        let (epoch, root, store) = committing
        do {
            // The keyring may drop the old root only once the new epoch cannot be lost.
            if environment.configuration.durability != .full { try environment.sync() }
            let injected = state.withLock { state -> Bool in
                guard state.injectedTrimFailures > 0 else { return false }
                state.injectedTrimFailures -= 1
                return true
            }
            if injected { throw FileProblem(operation: "rewrite", path: keyring.path, code: ENOSPC) }
            try keyring.replace(
                Keyring.Contents(
                    format: Keyring.format, store: store,
                    epochs: [try Keyring.Entry(epoch: epoch, root: root, under: box)]
                ))
            try keyring.removeLeftover()
            state.withLock {
                $0.roots = [epoch: root]
                $0.committing = nil
                $0.pending = false
            }
        } catch {
            state.withLock {
                $0.committing = nil
                $0.pending = true
            }
            throw SecretBoxError.erasurePending(accounts: erased, keyring: keyring.path, cause: "\(error)")
        }
    }

    /// When a keyring rewrite after a commit failed, asks `writer` to try again in a batch
    /// of its own (its error goes to nobody's request). Cheap when nothing is pending.
    func retryPendingErasure(on writer: GroupCommitWriter) {
        let start = state.withLock { state -> Bool in
            guard state.pending, !state.retrying else { return false }
            state.retrying = true
            return true
        }
        guard start else { return }
        let hook = erasureHook
        Task {
            _ = try? await writer.perform { ltx in ltx.register(hook, payload: ErasureRetry()) }
            state.withLock { $0.retrying = false }
        }
    }

    /// True while a keyring rewrite is owed (tests and health checks).
    var erasurePending: Bool { state.withLock { $0.pending } }

    /// Makes the next `count` keyring rewrites after a commit fail with ENOSPC (tests).
    func injectTrimFailures(_ count: Int) { state.withLock { $0.injectedTrimFailures = count } }

    private func entries(inBucket bucket: UInt8, in txn: some TransactionReading) throws -> [([UInt8], [UInt8])] {
        try txn.withCursor(dataKeys) { cursor in
            var out: [([UInt8], [UInt8])] = []
            var entry = try cursor.seek(atLeast: [bucket])
            while let e = entry, e.key.first == bucket {
                out.append(e.copied)
                entry = try cursor.next()
            }
            return out
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
