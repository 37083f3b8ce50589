public import EventLog
import Foundation
import Storage

/// What a rebuild did.
public struct RebuildReport: Sendable {
    public var events: UInt64
    public var seconds: Double
    public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
    /// How long the swap held the live file's write lock (the only pause writers see), and
    /// the rows it copied in; zero for an in-place rebuild.
    public var swapSeconds: Double = 0
    public var rowsSwapped = 0
    /// The last log sequence the rebuilt projections include (nil for an in-place rebuild,
    /// whose checkpoint is the log's head).
    public var checkpoint: UInt64? = nil
}

extension Projections {
    /// Empties every projection and replays the whole log into it, inside `ltx`'s
    /// transaction: a crash before the commit leaves the old projections, after it the
    /// new ones, never a mix. `progress` receives the sequence reached each time another
    /// 10,000 events are replayed (after the page that crosses the mark).
    public func rebuild(
        in ltx: inout LogTransaction, only: Set<String>? = nil, progress: (UInt64) -> Void = { _ in }
    ) throws -> UInt64 {
        try reset(in: &ltx, only: only)
        var replayed: UInt64 = 0
        var after: UInt64 = 0
        while true {
            // Pages keep memory bounded while the cursor over `events` stays short-lived.
            let page = try ltx.log.read(after: after, limit: 4096, in: ltx.reading)
            guard let last = page.last else { break }
            try apply(page: page, in: &ltx, only: only)
            let before = replayed
            replayed += UInt64(page.count)
            if replayed / 10_000 > before / 10_000 { progress(last.sequence) }
            after = last.sequence
        }
        if after > 0 { try setCheckpoint(after, in: &ltx, only: only) }
        return replayed
    }
}

extension Projections {
    /// Empties the projections of `log`'s store and replays the log into them, a page per
    /// commit, each commit with the checkpoint of its last event; each commit grows the
    /// store when it fills. For code that owns the store outright (a backup's copy, the
    /// benchmark), with no writer of this process running on it. As in an online rebuild,
    /// the log is read and decoded ahead on another thread (``ReplayReader``, in read
    /// transactions of their own) while this one folds.
    ///
    /// Why not one transaction: the pages a long transaction lets go of are free only after
    /// its commit. Replaying 300,000 events in one left 66,674 of the copy's 120,135 pages
    /// on LMDB's free list, all from that transaction (`mdb_stat -ff`): a backup of a 208 MB
    /// file came out at 492 MB. A page per commit leaves 3,578. A crash between commits
    /// leaves projections as of their checkpoint, which a server's start catches up like any
    /// other.
    public func rebuild(
        log: EventLog, only: Set<String>? = nil, progress: (UInt64) -> Void = { _ in }
    ) throws -> UInt64 {
        // The replay thread reads while this thread writes. In a single-process store (a
        // backup's copy) its reads wait for each page's commit: no read waits inside a write.
        let head = try log.environment.write(makingRoom: 8) { txn in
            var ltx = LogTransaction(log: log, transaction: txn, now: 0)
            try reset(in: &ltx, only: only)
            return try log.head(in: txn).sequence
        }
        var replayed: UInt64 = 0
        try ReplayReader.replay(log, after: 0, through: head) { page in
            try log.environment.write(makingRoom: 8) { txn in
                var ltx = LogTransaction(log: log, transaction: txn, now: 0)
                try apply(decoded: page.events, in: &ltx, only: only)
                try setCheckpoint(page.last, in: &ltx, only: only)
            }
            let before = replayed
            replayed += UInt64(page.recorded)
            if replayed / 10_000 > before / 10_000 { progress(page.last) }
        }
        return replayed
    }
}

extension BotrixStore {
    /// Rebuilds the registered projections (the named ones when `only` is set) online:
    /// `botrix rebuild`. The log is replayed into a scratch file beside this one in many
    /// small commits while a server on the same file keeps serving and appending; the
    /// scratch copy then catches up with what was appended meanwhile, and one short write
    /// transaction of the live file swaps it in (copying its rows, then applying the last
    /// few events). A crash before that transaction commits leaves the old projections; the
    /// scratch file is removed at the end, or by the next rebuild after a crash.
    public func rebuild(only: Set<String>? = nil, progress: (UInt64) -> Void = { _ in }) throws -> RebuildReport {
        let live = try Projections(store: self)
        let started = ContinuousClock.now
        let scratch = try ScratchProjections(store: self, only: only, throughMap: true)
        defer { scratch.remove() }
        try Self.build(scratch, log: log, progress: progress)
        let swapStarted = ContinuousClock.now
        let applied = try log.environment.write(makingRoom: 8) { txn in
            var ltx = LogTransaction(log: log, transaction: txn, now: 0)
            return try scratch.swap(into: &ltx, live: live)
        }
        return scratch.report(started: started, swapStarted: swapStarted, applied: applied)
    }

    /// Replays the log into `scratch` up to its head, then catches up with what was appended
    /// meanwhile until the rest is small (at most 4,096 events, or after eight rounds), so
    /// that the swap applies few events while it holds the write lock; then ends the
    /// scratch copy's writing (``ScratchProjections/finishWriting()``), ready to swap.
    static func build(_ scratch: ScratchProjections, log: EventLog, progress: (UInt64) -> Void) throws {
        for _ in 0..<8 {
            let head = try log.head().sequence
            let behind = head - min(head, scratch.replayedTo)
            try scratch.catchUp(to: head, progress: progress)
            if behind <= 4096 { break }
        }
        try scratch.finishWriting()
    }
}

extension Duration {
    /// The duration in seconds, as a fraction.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension BotrixService {
    /// Rebuilds every projection online (see ``BotrixStore/rebuild(only:progress:)``): the
    /// replay runs beside the writer, and only the swap is an operation of its own batch, so
    /// no command interleaves with it and commands wait only for it.
    public func rebuild(progress: @escaping @Sendable (UInt64) -> Void = { _ in }) async throws -> RebuildReport {
        let projections = self.projections
        let log = writer.log
        let started = ContinuousClock.now
        let scratch = try ScratchProjections(store: store, throughMap: true)
        defer { scratch.remove() }
        try await SystemThread.run(named: "botrix-rebuild") {
            try BotrixStore.build(scratch, log: log, progress: progress)
        }
        let swapStarted = ContinuousClock.now
        let applied = try await writer.perform { ltx in try scratch.swap(into: &ltx, live: projections) }
        return scratch.report(started: started, swapStarted: swapStarted, applied: applied)
    }
}

extension ScratchProjections {
    /// What an online rebuild through this scratch copy did, its swap having applied
    /// `applied` events after the copy.
    func report(started: ContinuousClock.Instant, swapStarted: ContinuousClock.Instant, applied: UInt64)
        -> RebuildReport
    {
        let finished = ContinuousClock.now
        return RebuildReport(
            events: replayedTo + applied, seconds: (finished - started).seconds,
            swapSeconds: (finished - swapStarted).seconds, rowsSwapped: rowsSwapped, checkpoint: checkpoint)
    }
}
