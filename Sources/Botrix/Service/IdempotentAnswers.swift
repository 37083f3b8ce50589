import Crypto
import EventLog
import Storage

/// First answers of idempotent commands, kept beside the events they produced so a retry
/// gets the same answer and appends nothing. Not a projection: the log cannot rebuild it.
///
/// An entry is found by a digest of its scope (who asked, on which route) and the client's
/// key, so two API keys that happen to choose the same `Idempotency-Key` never see each
/// other's answers. It remembers a keyed digest of the request body: a retry with another
/// body is refused, because answering it with the first answer would hide a client bug. Entries
/// live for `lifetime` and are then ignored, and deleted by ``sweep(after:budget:now:in:)``.
///
/// The answer is stored sealed (AES-GCM) under a key derived from the scope and the
/// client's `Idempotency-Key`, which is not stored (the table key is another hash of it):
/// an answer may carry a secret — a claim's `claim_token` — and only a client that knows
/// the key, and so could replay the request, can read it from a copy of the file. The
/// body's digest is kept keyed the same way (an HMAC), so a copy of the file cannot be used
/// to test guesses of a body either (a new password, say).
struct IdempotentAnswers: Sendable {
    let database: Database
    /// How long an answer is kept, in milliseconds.
    let lifetime: Int64

    /// One stored answer: version 3, the time it was stored (ms), the body's keyed digest
    /// (``bodyDigest(_:)``), and the caller's encoding of the answer, sealed. Earlier
    /// versions (1: answers in the clear; 2: the body's plain SHA-256) are never matched,
    /// and are swept.
    struct Record: Equatable {
        static let version: UInt8 = 3
        var storedAt: Int64
        var fingerprint: [UInt8]
        var answer: [UInt8]

        var bytes: [UInt8] { [Self.version] + BigEndian.bytes(UInt64(max(0, storedAt))) + fingerprint + answer }

        /// Nil for anything else, including the seed's format (two status bytes and a body).
        init?(_ bytes: [UInt8]) {
            guard bytes.count >= 41, bytes[0] == Self.version else { return nil }
            guard let stored = BigEndian.uint64(bytes, at: 1) else { return nil }
            storedAt = Int64(truncatingIfNeeded: stored)
            fingerprint = Array(bytes[9..<41])
            answer = Array(bytes[41...])
        }

        init(storedAt: Int64, fingerprint: [UInt8], answer: [UInt8]) {
            self.storedAt = storedAt
            self.fingerprint = fingerprint
            self.answer = answer
        }
    }

    /// The table key: SHA-256 of scope, a zero byte, and the client's key (fixed length,
    /// so no long key is ever cut short into another's).
    static func key(_ replay: CommandMetadata.Replay) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: Array(replay.scope.utf8))
        hash.update(data: [0])
        hash.update(data: Array(replay.key.utf8))
        return Array(hash.finalize())
    }

    /// The key that seals the answer of `replay`: SHA-256 of a label, the scope and the
    /// client's key — not derivable from the table key.
    static func sealingKey(_ replay: CommandMetadata.Replay) -> SymmetricKey {
        derivedKey("botrix idempotent answer", replay)
    }

    /// The key of the body's digest: the same derivation under another label, so no key
    /// serves both AES-GCM and HMAC.
    static func digestKey(_ replay: CommandMetadata.Replay) -> SymmetricKey {
        derivedKey("botrix idempotent body", replay)
    }

    private static func derivedKey(_ label: String, _ replay: CommandMetadata.Replay) -> SymmetricKey {
        var hash = SHA256()
        hash.update(data: Array(label.utf8))
        hash.update(data: [0])
        hash.update(data: Array(replay.scope.utf8))
        hash.update(data: [0])
        hash.update(data: Array(replay.key.utf8))
        return SymmetricKey(data: Array(hash.finalize()))
    }

    /// The body's digest as stored: HMAC-SHA-256 of its SHA-256 under ``digestKey(_:)``, so
    /// only a client that knows the `Idempotency-Key` can check a body against it.
    static func bodyDigest(_ replay: CommandMetadata.Replay) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: replay.fingerprint, using: digestKey(replay)))
    }

    /// The answer stored for `replay` and still alive at `now`; nil when there is none.
    /// - Throws: ``IdempotencyKeyReused`` when the key was used with another body.
    func answer(for replay: CommandMetadata.Replay, now: Int64, in txn: any TransactionReading) throws -> [UInt8]? {
        guard let bytes = try txn.get(database, Self.key(replay)), let record = Record(bytes),
            now - record.storedAt < lifetime
        else { return nil }
        guard record.fingerprint == Self.bodyDigest(replay) else {
            throw IdempotencyKeyReused(key: replay.key, lifetimeSeconds: lifetime / 1000)
        }
        // Opens only with the client's key; a record that does not open is not this answer.
        guard let box = try? AES.GCM.SealedBox(combined: record.answer),
            let answer = try? AES.GCM.open(box, using: Self.sealingKey(replay))
        else { return nil }
        return Array(answer)
    }

    /// Keeps `answer` for `replay` in the command's own transaction.
    func store(_ answer: [UInt8], for replay: CommandMetadata.Replay, now: Int64, in ltx: inout LogTransaction) throws {
        let sealed = try AES.GCM.seal(answer, using: Self.sealingKey(replay)).combined
        guard let sealed else { throw SealingFailed() }
        let record = Record(storedAt: now, fingerprint: Self.bodyDigest(replay), answer: Array(sealed))
        try ltx.put(database, Self.key(replay), record.bytes)
    }

    /// The expired (and unreadable) entries among at most `budget` entries after the key
    /// `after`, and where to go on (nil: the end was reached).
    func expired(after: [UInt8]?, budget: Int, now: Int64, in txn: some TransactionReading) throws -> (
        keys: [[UInt8]], next: [UInt8]?
    ) {
        var expired: [[UInt8]] = []
        var last: [UInt8]?
        var seen = 0
        try txn.withCursor(database) { cursor in
            var entry =
                try after.map { start in
                    try cursor.seek(atLeast: start).flatMap { $0.key.elementsEqual(start) ? try cursor.next() : $0 }
                } ?? cursor.first()
            while let current = entry, seen < budget {
                seen += 1
                let key = Array(current.key)
                last = key
                let record = Record(Array(current.value))
                if record.map({ now - $0.storedAt >= lifetime }) ?? true { expired.append(key) }
                entry = try cursor.next()
            }
            if entry == nil { last = nil }
        }
        return (expired, last)
    }

    /// Deletes `keys` that are still expired at the writer's `now` (a retry may have
    /// stored a fresh answer under one since they were found).
    func delete(_ keys: [[UInt8]], now: Int64, in ltx: inout LogTransaction) throws -> Int {
        var deleted = 0
        for key in keys {
            let record = try ltx.reading.get(database, key).map(Record.init)
            if let record, let alive = record, now - alive.storedAt < lifetime { continue }
            if try ltx.delete(database, key) { deleted += 1 }
        }
        return deleted
    }
}

/// AES-GCM gave no combined box (it always does with its standard nonce).
struct SealingFailed: Error, CustomStringConvertible {
    var description: String { "could not seal an idempotent answer" }
}

/// The `Idempotency-Key` was first used with another request body; nothing was done.
public struct IdempotencyKeyReused: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let lifetimeSeconds: Int64

    public var description: String {
        "the Idempotency-Key \"\(key)\" was already used with a different request body; use a new key for a new request (a key is remembered for \(lifetimeSeconds) s)"
    }
}

extension BotrixService {
    /// Deletes expired idempotent answers among at most `budget` entries after `after`, in
    /// one short read and (when any expired) one short write. Returns how many went and where the next call goes on (nil: the
    /// table's end was reached, start again from the beginning next time).
    public func sweepIdempotentAnswers(after: [UInt8]?, budget: Int = 1000) async throws -> (
        deleted: Int, next: [UInt8]?
    ) {
        let answers = self.answers
        // Found in a read, deleted in a write only when there is something to delete: an
        // idle table costs no commit (and no fsync).
        let now = writer.currentTime()
        let (keys, next) = try store.environment.read { txn in
            try answers.expired(after: after, budget: budget, now: now, in: txn)
        }
        guard !keys.isEmpty else { return (0, next) }
        let deleted = try await writer.perform { ltx in try answers.delete(keys, now: ltx.now, in: &ltx) }
        return (deleted, next)
    }

    /// Idempotent answers stored (expired ones included until swept).
    public func idempotentAnswerCount() throws -> Int {
        try store.environment.read { txn in try txn.count(answers.database) }
    }
}
