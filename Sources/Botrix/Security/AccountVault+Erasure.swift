import Crypto
import EventLog
import Foundation
import Storage
import Synchronization

extension AccountVault {
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
    func rekey(_ ltx: inout LogTransaction, erased: [Int64]) throws {
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
    func trimAfterCommit(erased: [Int64]) throws {
        guard let committing = state.withLock({ $0.committing }) else { return }
        let (epoch, root, store) = committing
        do {
            // The keyring may drop the old root only once the new epoch cannot be lost.
            if environment.options.durability != .full { try environment.sync() }
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

    func entries(inBucket bucket: UInt8, in txn: some TransactionReading) throws -> [([UInt8], [UInt8])] {
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
