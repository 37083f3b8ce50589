import Crypto
import EventLog
import Foundation
import Storage

/// The domain's front door: commands go through the group-commit writer (decide →
/// append → apply projections, in one transaction per batch); queries read projections
/// in read-only transactions. One per process, over one store.
public final class BotrixService: Sendable {
    /// Limits from the configuration (LEASE_SECONDS, MAX_ATTEMPTS, MAX_JOB_COUNT).
    public struct Settings: Sendable {
        public var leaseSeconds: Int
        public var maxAttempts: Int
        public var maxJobCount: Int
        /// How long the answer to an idempotent request is kept (IDEMPOTENCY_TTL_SECONDS).
        public var idempotencyLifetimeSeconds: Int
        /// Claims one API key may have waiting for work at once (MAX_WAITING_CLAIMS_PER_KEY).
        public var waitingClaimsPerKey: Int
        /// Priority aging (QUEUE_AGING_SECONDS): a waiting job gains a priority level per
        /// this many seconds, so low priorities are not starved; 0 turns it off.
        public var queueAgingSeconds: Int
        /// Retry backoff (RETRY_BACKOFF_BASE_SECONDS, RETRY_BACKOFF_MAX_SECONDS): a job failed
        /// with retry waits about base × 2^(attempt − 1) seconds, at most max; base 0: no wait.
        public var retryBackoffBaseSeconds: Int
        public var retryBackoffMaxSeconds: Int

        public init(
            leaseSeconds: Int = 300, maxAttempts: Int = 3, maxJobCount: Int = 100,
            idempotencyLifetimeSeconds: Int = 86_400, waitingClaimsPerKey: Int = 64, queueAgingSeconds: Int = 0,
            retryBackoffBaseSeconds: Int = 0, retryBackoffMaxSeconds: Int = 600
        ) {
            self.retryBackoffBaseSeconds = retryBackoffBaseSeconds
            self.retryBackoffMaxSeconds = retryBackoffMaxSeconds
            self.waitingClaimsPerKey = waitingClaimsPerKey
            self.queueAgingSeconds = queueAgingSeconds
            self.leaseSeconds = leaseSeconds
            self.maxAttempts = maxAttempts
            self.maxJobCount = maxJobCount
            self.idempotencyLifetimeSeconds = idempotencyLifetimeSeconds
        }
    }

    // The store, its writer, the projections and the vault are the service's own: servers
    // and tools reach them only through the service's (and ``BotrixFile``'s) public API.
    let store: BotrixStore
    let writer: GroupCommitWriter
    let projections: Projections
    public let settings: Settings
    /// First answers of idempotent commands (not a projection: the log cannot rebuild it).
    let answers: IdempotentAnswers
    /// Seals account secrets; see ``SecretBox``.
    let secrets: SecretBox
    /// Per-account data keys outside the log, erased for good on deletion; see ``AccountVault``.
    let vault: AccountVault
    /// Claims waiting for work (long polling); see ``ClaimWaiters``.
    public let claimWaiters: ClaimWaiters
    /// Lease renewals granted in memory; see ``LeaseBook``.
    public let leases = LeaseBook()
    /// Work-queue totals since start, for metrics.
    public let queueTotals = QueueTotals()
    /// Milliseconds that leases and retry backoffs are timed by (see ``LeaseClock``).
    let leaseClock: @Sendable () -> Int64

    /// Opens the projections and brings them up to the log's head if they lag: events
    /// appended by a tool that writes only the log, or projections added by a newer build.
    /// (A crash cannot cause lag: events and projections commit together.)
    /// - Parameter secrets: the box sealing passwords; when nil, the development key file
    ///   beside the data file (created on first use).
    /// - Throws: ``SecretBoxError`` when the master key does not match the data file, or
    ///   its keyring is missing, damaged or of another copy (the message says what to do).
    /// - Parameter leaseClock: what leases are timed by; by default the writer's clock (so
    ///   a test's clock drives both). The server passes a ``LeaseClock``.
    init(
        store: BotrixStore, writer: GroupCommitWriter, settings: Settings = Settings(), secrets: SecretBox? = nil,
        leaseClock: (@Sendable () -> Int64)? = nil
    ) async throws {
        self.store = store
        self.writer = writer
        self.leaseClock = leaseClock ?? { writer.currentTime() }
        self.settings = settings
        self.secrets =
            try secrets ?? SecretBox.resolve(environment: [:], dataFile: store.environment.path, development: true).box
        projections = try Projections(store: store)
        answers = IdempotentAnswers(
            database: try store.environment.database("commands.replays"),
            lifetime: Int64(settings.idempotencyLifetimeSeconds) * 1000)
        vault = try await AccountVault.open(store: store, writer: writer, box: self.secrets)
        claimWaiters = ClaimWaiters(limitPerOwner: settings.waitingClaimsPerKey)
        try await catchUp()
    }

    /// Applies log events the projections have not seen yet, each projection from its own
    /// checkpoint: one added by a newer build replays the whole log while the others, already
    /// at the head, see nothing twice.
    func catchUp() async throws {
        let projections = self.projections
        try await writer.perform { ltx in try projections.catchUp(in: &ltx) }
    }

    /// Runs a command in the next batch with the decide context of that batch.
    func run<T: Sendable>(
        _ metadata: CommandMetadata, _ body: @escaping @Sendable (inout LogTransaction, CommandScope) throws -> T
    ) async throws -> T {
        let projections = self.projections
        let settings = self.settings
        let answers = self.answers
        let leases = self.leases
        let vault = self.vault
        let leaseClock = self.leaseClock
        vault.retryPendingErasure(on: writer)
        return try await writer.perform { ltx in
            let context = DecisionContext(
                now: ltx.now, leaseSeconds: settings.leaseSeconds, maxAttempts: settings.maxAttempts,
                maxJobCount: settings.maxJobCount, queueAgingSeconds: settings.queueAgingSeconds,
                leaseNow: leaseClock(), retryBackoffBaseSeconds: settings.retryBackoffBaseSeconds,
                retryBackoffMaxSeconds: settings.retryBackoffMaxSeconds)
            let scope = CommandScope(
                projections: projections, context: context, metadata: metadata, vault: vault, leases: leases)
            guard let replay = metadata.replay else { return try body(&ltx, scope) }
            // The first answer is stored in the command's own transaction: a retry after a
            // crash either finds it or finds that nothing happened.
            if let stored = try answers.answer(for: replay, now: ltx.now, in: ltx.reading) {
                throw StoredReplay(answer: stored)
            }
            let result = try body(&ltx, scope)
            if replay.keep(result) { try answers.store(try replay.encode(result), for: replay, now: ltx.now, in: &ltx) }
            return result
        }
    }
}

/// Who asked and why, stored in each event's metadata; and, for an idempotent request,
/// how to store its first answer.
public struct CommandMetadata: Sendable {
    public var requestID: String?
    public var actor: String?
    public var replay: Replay?

    /// The id (never the secret) of the API key that acted; nil in open mode.
    public var apiKey: String?

    public init(requestID: String? = nil, actor: String? = nil, apiKey: String? = nil, replay: Replay? = nil) {
        self.requestID = requestID
        self.actor = actor
        self.apiKey = apiKey
        self.replay = replay
    }

    /// A client's idempotency key, the scope it is valid in, the request it came with, and
    /// the encoding of the answer to keep for it.
    public struct Replay: Sendable {
        /// Who asked where (for HTTP: the API key's id, method and path): keys of different
        /// scopes never meet.
        public var scope: String
        /// The client's `Idempotency-Key`.
        public var key: String
        /// SHA-256 of the request (for HTTP: its body's JSON, written canonically): a retry
        /// must send the same request.
        public var fingerprint: [UInt8]
        public var encode: @Sendable (any Sendable) throws -> [UInt8]
        /// Whether a result is worth keeping: a claim that will wait keeps no empty answer
        /// (its retry should wait too, not replay "nothing").
        public var keep: @Sendable (any Sendable) -> Bool = { _ in true }

        public init(
            scope: String, key: String, fingerprint: [UInt8],
            encode: @escaping @Sendable (any Sendable) throws -> [UInt8]
        ) {
            self.scope = scope
            self.key = key
            self.fingerprint = fingerprint
            self.encode = encode
        }

        /// The fingerprint of a request body: its SHA-256, byte for byte.
        public static func fingerprint(_ body: some Sequence<UInt8>) -> [UInt8] {
            Array(SHA256.hash(data: Array(body)))
        }
    }

    var dictionary: [String: String] {
        var out: [String: String] = [:]
        if let requestID { out["request_id"] = requestID }
        if let actor { out["actor"] = actor }
        if let apiKey { out["api_key"] = apiKey }
        return out
    }
}

/// The command was already done under this idempotency key; `answer` is what
/// ``CommandMetadata/Replay/encode`` stored then. Nothing was appended this time.
public struct StoredReplay: Error, Sendable {
    public var answer: [UInt8]
}

/// What a command handler needs inside the transaction.
struct CommandScope: Sendable {
    let projections: Projections
    let context: DecisionContext
    let metadata: CommandMetadata
    let vault: AccountVault
    let leases: LeaseBook

    /// Appends the decided events to their stream and applies them to every projection.
    func emit(_ events: [DomainEvent], expected: ExpectedVersion, in ltx: inout LogTransaction) throws {
        guard let stream = events.first?.stream else { return }
        let proposed = try events.map {
            ProposedEvent(type: $0.type, data: try $0.encodedData(), metadata: metadata.dictionary)
        }
        let before = ltx.appendedCount
        _ = try ltx.append(AppendRequest(stream: stream, expectedVersion: expected, events: proposed))
        let recorded = ltx.appended(from: before)
        for (recorded, event) in zip(recorded, events) {
            try projections.apply(recorded, event, in: &ltx)
        }
        if let last = recorded.last { try projections.setCheckpoint(last.sequence, in: &ltx) }
    }

    /// Loads a job or refuses with 404; its lease end counts a renewal granted in memory
    /// to the current attempt, so every holder check sees the lease the worker was told.
    func job(_ id: UUID, in ltx: LogTransaction) throws -> JobView {
        guard let job = try projections.jobs.view(id, in: ltx.reading) else {
            throw DomainError.notFound(kind: "job", id: id.text)
        }
        return leases.overlay(job)
    }

    /// Loads an account or refuses with 404.
    func account(_ id: Int64, in ltx: LogTransaction) throws -> AccountView {
        guard let account = try projections.accounts.view(id, in: ltx.reading) else {
            throw DomainError.notFound(kind: "account", id: "\(id)")
        }
        return account
    }

    /// Decides on a job's state, appends and returns the job as it now is.
    func onJob(
        _ id: UUID, in ltx: inout LogTransaction, _ decide: (JobView) throws -> [DomainEvent]
    ) throws -> JobView {
        let current = try job(id, in: ltx)
        try emit(try decide(current), expected: .exact(current.version), in: &ltx)
        return try job(id, in: ltx)
    }
}
