import Crypto
import EventLog
import Foundation
import Storage
import Synchronization

extension AccountVault {
    // MARK: Opening

    /// Checks the recorded fingerprint, or records the scheme on a file that has none.
    /// - Returns: true when it wrote the record.
    func recordScheme(_ ltx: inout LogTransaction) throws -> Bool {
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
    func loadKeyring(_ ltx: inout LogTransaction) throws -> Bool {
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
    func trimKeyring(in txn: some TransactionReading) throws {
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
    func convertLegacyKeys(_ ltx: inout LogTransaction, scheme: SecretsScheme) throws {
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

}
