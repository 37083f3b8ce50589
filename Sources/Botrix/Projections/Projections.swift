import Crypto
public import EventLog
import Foundation
import JSONCoding
public import Storage

/// Every registered projection of the log. The write path applies each new event to all
/// of them in the transaction that appends it; rebuild, verify and catch-up iterate over
/// them. Each keeps a checkpoint (the last sequence applied) so lag and rebuild progress
/// are visible.
public struct Projections: Sendable {
    static let checkpointKey = "checkpoint"

    /// The projections every store has, in the order they apply an event. Add a new one
    /// here (one line) and rebuild, verify, backup and catch-up include it.
    public static let standard: [any Projection.Type] = [JobsProjection.self, AccountsProjection.self]

    /// Every registered projection, in apply order.
    public let all: [any Projection]
    /// The jobs projection, which queries and commands read directly.
    public let jobs: JobsProjection
    /// The accounts projection, likewise.
    public let accounts: AccountsProjection
    /// The partner of each of ``databases`` (same order), where an online rebuild builds
    /// the next rows beside the live ones (``PartnerDatabases``). Opened by every process
    /// that opens the projections, so that it can follow an exchange made by another
    /// (a `botrix rebuild` beside the server); empty for projections opened over the
    /// partners themselves, and in a read-only file that has none.
    public let partners: [Database]

    /// Names a projection may not take: the prefixes of the databases that are not derived
    /// from the log (a backup copies those and rebuilds every `NAME.` database instead).
    public static let reservedNames: Set<String> = [
        "events", "streams", "meta", "idempotency", "commands", "auth", "secrets", "storage",
    ]

    /// Opens `registered` (which must include the standard ones) on `environment`, with
    /// their partner databases (created when missing; see ``partners``).
    public init(environment: any StorageEngine, registered: [any Projection.Type] = standard) throws {
        try self.init(environment: environment, registered: registered, opensPartners: true)
    }

    private init(environment: any StorageEngine, registered: [any Projection.Type], opensPartners: Bool) throws {
        let names = registered.map { $0.name }
        if let reserved = names.first(where: Self.reservedNames.contains) {
            throw ProjectionRegistryError(description: "projection name \(reserved) is reserved")
        }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw ProjectionRegistryError(description: "two projections are named \(repeated)")
        }
        all = try registered.map { try $0.init(environment: environment) }
        // A backup tells derived databases from primary data by this prefix: enforce it. A
        // name ending as a partner's would make another database its own partner.
        for projection in all {
            if opensPartners,
                let partnerLike = projection.databases.first(where: { $0.name.hasSuffix(PartnerDatabases.suffix) })
            {
                throw ProjectionRegistryError(
                    description:
                        "projection \(projection.name) owns \(partnerLike.name): a name ending in \(PartnerDatabases.suffix) is kept for partner databases"
                )
            }
            if let stray = projection.databases.first(where: { !$0.name.hasPrefix(projection.name + ".") }) {
                throw ProjectionRegistryError(
                    description:
                        "projection \(projection.name) owns \(stray.name): its databases must be named \(projection.name).<something>"
                )
            }
        }
        guard let jobs = all.lazy.compactMap({ $0 as? JobsProjection }).first,
            let accounts = all.lazy.compactMap({ $0 as? AccountsProjection }).first
        else {
            throw ProjectionRegistryError(description: "the jobs and accounts projections must be registered")
        }
        self.jobs = jobs
        self.accounts = accounts
        let partners = PartnerDatabases(environment)
        let databases = all.flatMap(\.databases)
        let open = { try databases.map { try partners.database($0.name, create: true) } }
        if !opensPartners {
            self.partners = []
        } else if environment.options.readOnly {
            // A file made before partners existed: no exchange can have moved its rows.
            self.partners = (try? open()) ?? []
        } else {
            self.partners = try open()
        }
    }

    /// The same projections over their partner databases: what an online rebuild's
    /// catch-up writes before the exchange.
    public func partnered(environment: any StorageEngine, registered: [any Projection.Type]) throws -> Projections {
        try Projections(environment: PartnerDatabases(environment), registered: registered, opensPartners: false)
    }

    /// The partners of the named projections' databases (all when `only` is nil), in the
    /// order of ``databases(only:)``.
    public func partners(only: Set<String>?) -> [Database] {
        let selected = Set(databases(only: only).map(\.name))
        return zip(databases, partners).filter { selected.contains($0.0.name) }.map(\.1)
    }

    /// The projections registered for `store`, opened on it.
    public init(store: BotrixStore) throws {
        try self.init(environment: store.environment, registered: store.projectionTypes)
    }

    /// Every projection database, in a fixed order.
    public var databases: [Database] { all.flatMap(\.databases) }

    /// The names of the registered projections, for `botrix rebuild NAME`.
    public var names: [String] { all.map(\.name) }

    /// The projections selected by `only` (all when nil).
    func selected(_ only: Set<String>?) -> [any Projection] {
        guard let only else { return all }
        return all.filter { only.contains($0.name) }
    }

    /// The databases of the named projections (all when `only` is nil).
    public func databases(only: Set<String>?) -> [Database] { selected(only).flatMap(\.databases) }

    /// Applies one recorded event (decoded once by the caller when it has the payload).
    /// Call ``setCheckpoint(_:in:only:)`` after the last event of a command or a replay.
    public func apply(
        _ recorded: RecordedEvent, _ event: DomainEvent?, in ltx: inout LogTransaction, only: Set<String>? = nil
    ) throws {
        guard let event = try event ?? DomainEvent(recorded) else { return }
        let position = EventPosition(recorded)
        for projection in selected(only) { try projection.apply(event, position, in: &ltx) }
    }

    /// Folds a page of recorded events into the (named) projections during a replay: each
    /// event is decoded once, then every projection takes the whole page (see
    /// ``Projection/apply(page:in:)``). Projections never read one another, so one
    /// projection's page before the next is the same as event by event.
    public func apply(page recorded: [RecordedEvent], in ltx: inout LogTransaction, only: Set<String>? = nil) throws {
        try apply(decoded: try Self.decode(page: recorded), in: &ltx, only: only)
    }

    /// The events of a page this version knows, decoded, with their positions: what
    /// ``apply(decoded:in:only:)`` folds (a replay decodes ahead on another thread).
    public static func decode(page recorded: [RecordedEvent]) throws -> [DecodedEvent] {
        var page: [DecodedEvent] = []
        page.reserveCapacity(recorded.count)
        var previous: EventPosition?
        for event in recorded {
            guard let domain = try DomainEvent(event) else { continue }
            let position = EventPosition(event, after: previous)
            page.append(DecodedEvent(domain, position))
            previous = position
        }
        return page
    }

    /// Folds a decoded page (see ``decode(page:)``) into the (named) projections.
    public func apply(
        decoded page: [DecodedEvent], in ltx: inout LogTransaction,
        only: Set<String>? = nil
    ) throws {
        for projection in selected(only) { try projection.apply(page: page, in: &ltx) }
    }

    /// Records that the (named) projections have applied the log up to `sequence`.
    public func setCheckpoint(_ sequence: UInt64, in ltx: inout LogTransaction, only: Set<String>? = nil) throws {
        let checkpoint = Keys.integer(Int64(bitPattern: sequence))
        for projection in selected(only) {
            try ltx.put(projection.checkpointDatabase, Array(Self.checkpointKey.utf8), checkpoint)
        }
    }

    /// Empties the (named) projections' databases.
    public func reset(in ltx: inout LogTransaction, only: Set<String>? = nil) throws {
        for database in databases(only: only) { try ltx.clear(database) }
    }

    /// The last sequence each projection applied (0 when empty), by name.
    public func checkpoints(in txn: some TransactionReading) throws -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for projection in all {
            let raw = try txn.get(projection.checkpointDatabase, Array(Self.checkpointKey.utf8))
            out[projection.name] = raw.flatMap { BigEndian.uint64($0) } ?? 0
        }
        return out
    }

    /// SHA-256 over every key and value of each database, by name: equal digests mean
    /// byte-identical projections (how the property tests compare live state with a rebuild;
    /// `verify` compares row by row to name the first differing key).
    public func digests(in txn: some TransactionReading) throws -> [String: String] {
        var out: [String: String] = [:]
        for database in databases {
            var hasher = SHA256()
            try txn.withCursor(database) { cursor in
                var entry = try cursor.first()
                while let e = entry {
                    withUnsafeBytes(of: UInt32(e.key.count).bigEndian) { hasher.update(bufferPointer: $0) }
                    hasher.update(bufferPointer: e.key)
                    withUnsafeBytes(of: UInt32(e.value.count).bigEndian) { hasher.update(bufferPointer: $0) }
                    hasher.update(bufferPointer: e.value)
                    entry = try cursor.next()
                }
            }
            out[database.name] = JSONText.hex(Array(hasher.finalize()))
        }
        return out
    }
}

extension Projections {
    /// Applies the log events the projections have not seen yet, each projection from its
    /// own checkpoint, in pages of 4096, then sets every checkpoint to the log's last event:
    /// one added by a newer build replays the whole log while the others, already at the
    /// head, see nothing twice. A server's start, and a backup's copy brought up to date.
    public func catchUp(in ltx: inout LogTransaction) throws {
        let checkpoints = try self.checkpoints(in: ltx.reading)
        var after = checkpoints.values.min() ?? 0
        let highest = checkpoints.values.max() ?? 0
        while true {
            let page = try ltx.log.read(after: after, limit: 4096, in: ltx.reading, fields: .forProjections)
            guard let last = page.last else { break }
            for event in page {
                // Past the highest checkpoint every projection is behind: no selection to make.
                let behind =
                    event.sequence > highest ? nil : Set(checkpoints.filter { $0.value < event.sequence }.keys)
                try apply(event, nil, in: &ltx, only: behind)
            }
            try setCheckpoint(last.sequence, in: &ltx)
            after = last.sequence
        }
    }
}
