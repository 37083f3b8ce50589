public import EventLog
import Foundation
import Storage

/// The live file's side of an online rebuild: the partner of each selected projection
/// database (``Projections/partners``), projections that write those partners, and how far
/// the move of the scratch copy into them has gone.
///
/// Each ``step(in:)`` is one short write transaction of the live file (at most
/// ``rowsPerStep`` rows or ``eventsPerStep`` events), so writers wait for one step at a
/// time, never for the whole move:
/// 1. the partners are emptied (a killed rebuild's rows, or those an exchange retired);
/// 2. the scratch rows are copied into them, in key order (appends);
/// 3. the live log after the scratch copy's last event is applied to them, until the rest
///    is at most ``eventsPerStep``;
/// then ``exchange(in:)`` applies the rest and exchanges every pair, and ``clearRetired(in:)``
/// empties the partners again, step by step. A crash before the exchange commits leaves the
/// live rows as they were; after it, the new ones. Either way the next rebuild empties the
/// partners first.
///
/// A value: a step's result is kept only once its transaction committed (a transaction that
/// grows the map runs its body again).
public struct PartnerTransfer: Sendable {
    /// Rows removed or copied per step (16,384 by default: about 10 ms of writing here).
    public let rowsPerStep: Int
    /// The rows a step moves unless told otherwise.
    public static let defaultRowsPerStep = 16_384
    /// Events applied per catch-up step (2,048: about 15 ms of folding here).
    public let eventsPerStep: Int
    /// Catch-up steps before the exchange applies whatever is left, should writers append
    /// faster than the steps apply.
    static let catchUpSteps = 64

    enum Stage: Sendable, Equatable {
        /// Emptying the partners.
        case clearing
        /// The partners are empty (after the exchange: the last stage).
        case cleared
        /// Copying scratch database `index` into its partner, after the key `after`.
        case copying(Int, after: [UInt8]?)
        /// Applying the live log after ``replayedTo`` to the partners.
        case catchingUp
        /// Only the exchange is left.
        case ready
    }

    let scratch: ScratchLanes
    let only: Set<String>?
    /// The selected live databases and their partners, in the same order.
    let live: [Database]
    let partners: [Database]
    /// The registered projections over the partner databases.
    let partnerProjections: Projections
    private(set) var stage: Stage = .clearing
    /// The last live sequence the partners include.
    public private(set) var replayedTo: UInt64
    /// Rows copied from the scratch copy into the partners.
    public private(set) var rowsCopied = 0
    /// Rows removed from the partners: left by an interrupted rebuild before the move,
    /// retired by the exchange after it (``clearingRetired()`` counts afresh).
    public private(set) var rowsRemoved = 0
    private var caughtUp = 0
    /// Set after the exchange: emptying the partners is the last stage.
    private var retiring = false

    /// Prepares to move `scratch` (built to ``ScratchLanes/replayedTo``) into `live`'s
    /// partners in `store`; tests take smaller steps.
    public init(
        scratch: ScratchLanes, live: Projections, store: BotrixStore, rowsPerStep: Int = defaultRowsPerStep,
        eventsPerStep: Int = 2_048
    ) throws {
        precondition(rowsPerStep > 0 && eventsPerStep > 0, "a step moves something")
        self.rowsPerStep = rowsPerStep
        self.eventsPerStep = eventsPerStep
        self.scratch = scratch
        only = scratch.only
        self.live = live.databases(only: only)
        partners = live.partners(only: only)
        guard partners.count == self.live.count else {
            throw FileProblem(
                operation: "rebuild", path: store.environment.path, code: EROFS,
                explanation: "it has no partner databases (opened read-only?)")
        }
        partnerProjections = try live.partnered(environment: store.environment, registered: store.projectionTypes)
        replayedTo = scratch.replayedTo
    }

    /// Whether only the exchange is left.
    public var isReady: Bool { stage == .ready }

    /// One step (see the type's notes), inside one write transaction of the live file;
    /// returns the transfer as it stands once that transaction commits. Emptying and
    /// copying share one budget of ``rowsPerStep`` rows: small databases go several to a step.
    public func step(in ltx: inout LogTransaction) throws -> PartnerTransfer {
        var next = self
        var budget = rowsPerStep
        while budget > 0 {
            switch next.stage {
            case .clearing:
                let removed = try Self.remove(budget, from: partners, in: &ltx)
                next.rowsRemoved += removed
                budget -= removed
                // Fewer than asked: the partners are empty.
                if budget > 0 { next.stage = retiring ? .cleared : .copying(0, after: nil) }
                if retiring { return next }
            case .copying(let index, let after):
                guard index < partners.count else {
                    next.stage = .catchingUp
                    return next
                }
                let (copied, last) = try scratch.copy(
                    index, after: after, limit: budget, into: partners[index], in: &ltx)
                next.rowsCopied += copied
                budget -= copied
                next.stage = budget > 0 ? .copying(index + 1, after: nil) : .copying(index, after: last)
            case .catchingUp:
                let applied = try apply(limit: eventsPerStep, in: &ltx)
                next.replayedTo = applied.through
                next.caughtUp += 1
                let head = try ltx.log.head(in: ltx.reading).sequence
                let behind = head - min(head, applied.through)
                if behind <= UInt64(eventsPerStep) || next.caughtUp >= Self.catchUpSteps { next.stage = .ready }
                return next
            case .ready, .cleared:
                return next
            }
        }
        return next
    }

    /// Applies what the live log holds after ``replayedTo`` to the partners (all of it, or
    /// at most `limit` events) and sets their checkpoint; returns the events applied and the
    /// last sequence they include.
    private func apply(limit: Int = .max, in ltx: inout LogTransaction) throws -> (events: UInt64, through: UInt64) {
        var applied: UInt64 = 0
        var after = replayedTo
        while applied < UInt64(limit) {
            let page = try ltx.log.read(
                after: after, limit: Int(min(UInt64(4096), UInt64(limit) - applied)), in: ltx.reading,
                fields: .forProjections)
            guard let last = page.last else { break }
            try partnerProjections.apply(page: page, in: &ltx, only: only)
            applied += UInt64(page.count)
            after = last.sequence
        }
        if after > replayedTo { try partnerProjections.setCheckpoint(after, in: &ltx, only: only) }
        return (applied, after)
    }

    /// The exchange, in one write transaction of the live file: applies to the partners what
    /// the log holds beyond ``replayedTo``, then gives each live database its partner's
    /// rows (``WriteTransaction/exchange(_:_:)``: a few puts each, whatever they hold).
    /// Returns the events applied and the checkpoint of the projections now live.
    public func exchange(in ltx: inout LogTransaction) throws -> (events: UInt64, checkpoint: UInt64) {
        let applied = try apply(in: &ltx)
        // From here a name's rows may live in its partner: older builds must refuse the file.
        try ltx.raiseFormat(to: EventLog.exchangedFormat)
        for (database, partner) in zip(live, partners) { try ltx.exchange(database, partner) }
        return (applied.events, applied.through)
    }

    /// After the exchange: the partners hold the retired rows. Returns the transfer set to
    /// empty them (``step(in:)`` until ``isCleared``).
    public func clearingRetired() -> PartnerTransfer {
        var next = self
        next.stage = .clearing
        next.retiring = true
        next.rowsRemoved = 0
        return next
    }

    /// Whether the retired rows are gone (see ``clearingRetired()``).
    public var isCleared: Bool { stage == .cleared }

    /// Removes up to `budget` rows from `partners`, the first ones first; fewer means they
    /// are all empty now.
    static func remove(_ budget: Int, from partners: [Database], in ltx: inout LogTransaction) throws -> Int {
        var removed = 0
        for partner in partners where removed < budget {
            removed += try ltx.removeFirst(budget - removed, from: partner)
        }
        return removed
    }
}

extension BotrixService {
    /// Empties the partner databases of rows an interrupted online rebuild left in them (a
    /// kill after its first step and before its last removal of retired rows), in steps of
    /// at most 16,384 rows, each one operation of the writer; returns the rows removed.
    /// `botrix serve` runs it at start and every minute, so that such rows do not hold their
    /// disk until the next rebuild. It does nothing while a rebuild of the file runs (that rebuild
    /// owns the partners), and stops between steps when its task is cancelled.
    public func removePartnerLeftovers() async throws -> Int {
        let partners = projections.partners
        let leftovers = try store.environment.read { txn in try partners.contains { try txn.count($0) > 0 } }
        guard leftovers, let lock = try? RebuildLock(dataFile: store.environment.path) else { return 0 }
        defer { lock.release() }
        let budget = PartnerTransfer.defaultRowsPerStep
        var removed = 0
        while !Task.isCancelled {
            let step = try await writer.perform { ltx in try PartnerTransfer.remove(budget, from: partners, in: &ltx) }
            removed += step
            if step < budget { break }
        }
        return removed
    }

    /// Removes the scratch files of rebuilds of this file that were killed (no run holds
    /// their owner lock; see ``ScratchProjections/removeLeftovers(besideDataFile:)``) and
    /// returns their paths: `serve` calls it at start and every minute, so that a rebuild
    /// killed while the server runs does not hold up to a copy of the projections' disk
    /// until the next rebuild or restart. A running rebuild's files are left alone.
    public func removeScratchLeftovers() -> [String] {
        ScratchProjections.removeLeftovers(besideDataFile: store.environment.path)
    }
}
