import Crypto
import EventLog
import Storage

/// What `botrix keys rotate-master` did: the secrets of a data file moved from one
/// master key to another.
///
/// Only the keyring's root is wrapped under the master key, so a rotation re-wraps the
/// bucket keys under a new root (epoch e+1) and writes that root wrapped under the new
/// key; data keys are not touched. The old master key then opens nothing in the data file,
/// the keyring, or any backup taken afterwards (a backup taken before still needs it).
public struct MasterKeyRotation: Sendable {
    public var dataFile: String
    public var keyring: String
    public var fromEpoch: UInt64
    public var toEpoch: UInt64
    public var bucketKeys: Int
    public var dataKeys: Int
    public var oldFingerprint: String
    public var newFingerprint: String
    /// True when the data file was already sealed with the new key: an earlier run was
    /// interrupted after its LMDB step, and this one only finished the keyring.
    public var finishedEarlierRun: Bool

    /// Moves the secrets of `store` from the `current` master key to `new`:
    /// 1. keyring = {e: root under current, e+1: new root under new} (durable);
    /// 2. one LMDB transaction re-wraps every bucket key under the new root and records
    ///    epoch e+1 and the new fingerprint (then made durable);
    /// 3. keyring = {e+1 under new}.
    ///
    /// A crash after 1 leaves the file on the current key (the next open drops e+1); after
    /// 2, on the new key (the next open, or running this again, drops e). Run it only with
    /// no server on the file (the caller holds the serve lock).
    public static func rotate(store: BotrixStore, current: SecretBox, new: SecretBox) async throws
        -> MasterKeyRotation
    {
        let writer = try store.makeWriter()
        do {
            let rotation = try await run(store: store, writer: writer, current: current, new: new)
            await writer.shutdown()
            return rotation
        } catch {
            await writer.shutdown()
            throw error
        }
    }

    private static func run(store: BotrixStore, writer: GroupCommitWriter, current: SecretBox, new: SecretBox)
        async throws -> MasterKeyRotation
    {
        let meta = try store.environment.database(SecretsLayout.meta)
        let recorded = try store.environment.read { try SecretsScheme.read(meta, in: $0) }
        if let recorded, recorded.master == new.fingerprint, current.fingerprint != new.fingerprint {
            // An earlier run got past step 2: opening with the new key finishes step 3.
            let vault = try await AccountVault.open(store: store, writer: writer, box: new)
            return try report(vault, fromEpoch: nil, old: current)
        }
        guard current.fingerprint != new.fingerprint else {
            throw SecretBoxError.sameNewKey(fingerprint: new.fingerprint)
        }
        let vault = try await AccountVault.open(store: store, writer: writer, box: current)
        let step = try await writer.perform { ltx in try vault.rewrapAll(&ltx, to: new) }
        try store.environment.sync()
        try await writer.perform { _ in
            try vault.keyring.replace(
                Keyring.Contents(
                    format: Keyring.format, store: step.store,
                    epochs: [try Keyring.Entry(epoch: step.next, root: step.root, under: new)]))
        }
        let rotated = try await AccountVault.open(store: store, writer: writer, box: new)
        return try report(rotated, fromEpoch: step.epoch, old: current)
    }

    private static func report(_ vault: AccountVault, fromEpoch: UInt64?, old: SecretBox) throws -> MasterKeyRotation {
        try vault.environment.read { txn in
            let epoch = try vault.currentEpoch(in: txn)
            return MasterKeyRotation(
                dataFile: vault.environment.path, keyring: vault.keyring.path, fromEpoch: fromEpoch ?? epoch,
                toEpoch: epoch, bucketKeys: try txn.count(vault.buckets), dataKeys: try txn.count(vault.dataKeys),
                oldFingerprint: old.fingerprint, newFingerprint: vault.box.fingerprint,
                finishedEarlierRun: fromEpoch == nil)
        }
    }
}

extension AccountVault {
    /// Steps 1 and 2 of a rotation, in one writer transaction.
    fileprivate func rewrapAll(_ ltx: inout LogTransaction, to new: SecretBox) throws -> (
        epoch: UInt64, next: UInt64, root: SymmetricKey, store: String
    ) {
        let txn = ltx.reading
        var scheme = try requireScheme(in: txn)
        let epoch = try currentEpoch(in: txn)
        let root = try root(epoch)
        let next = epoch + 1
        let newRoot = SymmetricKey(size: .bits256)
        var rewrapped: [([UInt8], [UInt8])] = []
        try txn.withCursor(buckets) { cursor in
            var entry = try cursor.first()
            while let e = entry {
                let (key, value) = e.copied
                guard let bucketKey = try? KeyWrap.unwrap(value, under: root) else {
                    throw SecretBoxError.damaged("a bucket key does not open under the keyring's root")
                }
                rewrapped.append((key, try KeyWrap.wrap(bucketKey, under: newRoot)))
                entry = try cursor.next()
            }
        }
        try keyring.replace(
            Keyring.Contents(
                format: Keyring.format, store: scheme.store,
                epochs: [
                    try Keyring.Entry(epoch: epoch, root: root, under: box),
                    try Keyring.Entry(epoch: next, root: newRoot, under: new),
                ]))
        for (key, value) in rewrapped { try ltx.put(buckets, key, value) }
        scheme.master = new.fingerprint
        try ltx.put(meta, SecretsLayout.schemeKey, scheme.encoded())
        try ltx.put(meta, SecretsLayout.epochKey, BigEndian.bytes(next))
        return (epoch, next, newRoot, scheme.store)
    }
}
