public import EventLog
import Foundation
import Storage
import Synchronization

/// What a rebuild did.
public struct RebuildReport: Sendable {
    /// Events replayed: what the rebuilt projections include.
    public var events: UInt64
    /// Seconds until the rebuilt projections were live (for an online rebuild: until the
    /// exchange committed), which is what an operator waits for.
    public var seconds: Double
    /// ``events`` over ``seconds``: the rate `botrix rebuild` prints.
    public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
    /// How long the exchange's write transaction took: the one pause writers see that does
    /// not depend on a step's size; zero for an in-place rebuild.
    public var exchangeSeconds: Double = 0
    /// Events the exchange applied (appended after the partners' last catch-up step).
    public var eventsAtExchange: UInt64 = 0
    /// The longest of the short write transactions that emptied and filled the partner
    /// databases before the exchange, and emptied them of the retired rows after it: the
    /// longest any writer waited for one step.
    public var longestStepSeconds: Double = 0
    /// Those short write transactions, before and after the exchange.
    public var steps = 0
    /// Rows copied from the scratch files into the partners (outside the exchange).
    public var rowsCopied = 0
    /// Of ``seconds``: the replay into the scratch files (where a rebuild's time goes).
    public var replaySeconds: Double = 0
    /// Of ``seconds``: the move into the partners (the rest is the exchange).
    public var moveSeconds: Double = 0
    /// Retired rows removed after the exchange.
    public var rowsRetired = 0
    /// How long removing them took (the rebuilt projections were live meanwhile; not
    /// counted in ``seconds``).
    public var retireSeconds: Double = 0
    /// The last log sequence the rebuilt projections include (nil for an in-place rebuild,
    /// whose checkpoint is the log's head).
    public var checkpoint: UInt64? = nil
    /// Why removing the retired rows stopped (a full disk), or nil when they are all gone.
    /// The rebuilt projections are live either way: the exchange had committed. What is
    /// left is in the partner databases until a server on the file removes it (at start
    /// and every minute, ``BotrixService/removePartnerLeftovers()``) or the next rebuild
    /// does; failing the rebuild for it would tell the operator that it had not happened.
    public var retireFailure: String? = nil
    /// Retired rows still in the partner databases when ``retireFailure`` is set; nil
    /// otherwise, or when they could not be counted either.
    public var retiredLeft: Int? = nil
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
            let page = try ltx.log.read(after: after, limit: 4096, in: ltx.reading, fields: .forProjections)
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
    /// `botrix rebuild`. The log is replayed into scratch files beside this one, one per
    /// projection, each folded on a thread of its own (``ScratchLanes``), while a server on
    /// the same file keeps serving and appending; the scratch rows are moved into
    /// the live databases' partners in short transactions, which then catch up with what was
    /// appended meanwhile; one short transaction applies the last few events and exchanges
    /// each live database with its partner (``PartnerTransfer``). The retired rows are then
    /// removed, again in short transactions. A crash before the exchange commits leaves the
    /// old projections; the scratch files are removed at the end, or by the next rebuild (or
    /// `serve`) after a crash. A rebuild that fails before the exchange tries to remove the
    /// rows it left in the partners before it returns; what it cannot (the disk still full)
    /// and what a crash leaves, a server on the file or the next rebuild removes. A failure
    /// after the exchange leaves the rebuilt projections live and is reported, not thrown
    /// (``RebuildReport/retireFailure``).
    ///
    /// While a server runs on the file (looked at after every step; `yieldingToWriters`
    /// true or false decides instead) each step is followed by a pause of ``stepPause`` µs,
    /// so that the server's writer gets LMDB's lock between steps.
    /// - Throws: ``RebuildLock/Busy`` while another rebuild of this file runs;
    ///   ``OlderServerRunning`` when, at the exchange, a server too old to follow it runs on
    ///   the file (the partners are emptied; the live projections stay as they were).
    public func rebuild(
        only: Set<String>? = nil, yieldingToWriters: Bool? = nil, progress: (UInt64) -> Void = { _ in }
    ) throws -> RebuildReport {
        try rebuildOnline(
            live: try Projections(store: self), only: only,
            through: DirectCommits(log: log, yieldingToWriters: yieldingToWriters), progress: progress)
    }

    /// The online rebuild, whichever way its steps reach the live file (see
    /// ``RebuildCommits``): `botrix rebuild` commits them itself, a running service through
    /// its writer. One driver, so that what the tests prove of one holds for the other.
    func rebuildOnline(
        live: Projections, only: Set<String>?, through commits: some RebuildCommits, progress: (UInt64) -> Void
    ) throws -> RebuildReport {
        let path = environment.path
        let lock = try RebuildLock(dataFile: path)
        defer { lock.release() }
        var clock = RebuildClock()
        let scratch = try ScratchLanes(store: self, only: only, throughMap: true)
        defer { scratch.remove() }
        try Self.build(scratch, log: log, progress: progress)
        clock.replayed()
        var transfer = try PartnerTransfer(scratch: scratch, live: live, store: self)
        let exchanged: (events: UInt64, checkpoint: UInt64)
        do {
            while !transfer.isReady {
                let current = transfer
                transfer = try clock.step { try commits.commit { try current.step(in: &$0) } }
                commits.afterStep()
            }
            // A server that started since the rebuild began may be one that would go on
            // reading the retired rows: looked for inside the exchange's transaction.
            let ready = transfer
            exchanged = try clock.exchange {
                try commits.commit { ltx in
                    if ServerPresence.followsExchanges(of: path) == false {
                        throw OlderServerRunning(path: path, pid: ServerPresence.server(of: path))
                    }
                    return try ready.exchange(in: &ltx)
                }
            }
        } catch {
            // Best effort: rows left in the partners hold disk until a rebuild or a server
            // removes them. What stopped the rebuild is the error to report.
            let partners = transfer.partners
            let budget = PartnerTransfer.defaultRowsPerStep
            while (try? commits.commit({ try PartnerTransfer.remove(budget, from: partners, in: &$0) })) == budget {
                commits.afterStep()
            }
            throw error
        }
        commits.afterStep()
        scratch.remove()
        transfer = transfer.clearingRetired()
        do {
            while !transfer.isCleared {
                let current = transfer
                transfer = try clock.step { try commits.commit { try current.step(in: &$0) } }
                commits.afterStep()
            }
        } catch {
            let report = retireStopped(
                clock.report(transfer, exchanged: exchanged), by: error, partners: transfer.partners)
            // A full disk is expected weather, reported and left to a server or the next
            // rebuild; anything else (an I/O error, LMDB giving up) is thrown, with what was done.
            guard (error as? any StorageFailure)?.storageFailure?.outOfSpace == true else {
                throw RetireFailed(report: report, error: error)
            }
            return report
        }
        return clock.report(transfer, exchanged: exchanged)
    }

    /// `report` for a rebuild whose removal of the retired rows `error` stopped: the rows
    /// left in `partners` are counted for the operator (see ``RebuildReport/retireFailure``).
    func retireStopped(_ report: RebuildReport, by error: any Error, partners: [Database]) -> RebuildReport {
        var report = report
        report.retireFailure = "\(error)"
        report.retiredLeft = try? environment.read { txn in try partners.reduce(0) { $0 + (try txn.count($1)) } }
        return report
    }

    /// Microseconds an online rebuild beside a server sleeps after each step, so that the
    /// server's writer, waiting for LMDB's lock, takes it before the next step does.
    static let stepPause: UInt32 = 2_000

    /// Replays the log into `scratch` up to its head, then catches up with what was appended
    /// meanwhile until the rest is small (at most 4,096 events, or after eight rounds), so
    /// that the partners' catch-up in the live file has little to apply; then ends the
    /// scratch copy's writing (``ScratchLanes/finishWriting()``), ready to be copied.
    static func build(_ scratch: ScratchLanes, log: EventLog, progress: (UInt64) -> Void) throws {
        for _ in 0..<8 {
            let head = try log.head().sequence
            let behind = head - min(head, scratch.replayedTo)
            try scratch.catchUp(to: head, progress: progress)
            if behind <= 4096 { break }
        }
        try scratch.finishWriting()
    }
}

/// An online rebuild whose exchange committed (the rebuilt projections are live) but whose
/// removal of the retired rows met an error other than a full disk: the rebuild did its work,
/// yet the store may be in trouble, so this is an error, not a warning.
public struct RetireFailed: Error, CustomStringConvertible {
    /// What the rebuild did, with ``RebuildReport/retireFailure`` and ``RebuildReport/retiredLeft``.
    public let report: RebuildReport
    public let error: any Error
    /// What the operator reads, and what to do.
    public var description: String {
        "the rebuilt projections are live (checkpoint \(report.events)), but removing the retired rows failed: "
            + "\(error); \(report.retiredLeft.map { "\($0)" } ?? "an unknown number of") rows are left in the "
            + "partner databases (`botrix stats`: partner rows), which `botrix serve` or the next rebuild removes "
            + "once the cause is mended"
    }
}

/// A server too old to follow an online rebuild's exchange runs on the file: it would go
/// on reading the retired rows, so the rebuild stops before its exchange.
public struct OlderServerRunning: Error, CustomStringConvertible {
    /// The data file and the server's pid (nil or -1 when its lock does not say).
    public let path: String
    public let pid: Int32?
    /// A refusal for the server of `path`.
    public init(path: String, pid: Int32?) {
        self.path = path
        self.pid = pid
    }
    /// What the operator reads, and what to do.
    public var description: String {
        "the botrix serve running on \(path)\(pid.map { $0 > 0 ? " (pid \($0))" : "" } ?? "") is an older "
            + "version that does not follow an online rebuild's exchange: it would go on serving the retired "
            + "rows. Restart it with this version, or stop it, then rebuild"
    }
}

/// Times an online rebuild's phases for its ``RebuildReport``.
struct RebuildClock {
    let started = ContinuousClock.now
    var live: ContinuousClock.Instant?
    var exchangeSeconds = 0.0
    var longest = 0.0
    var steps = 0
    var replayedAt: ContinuousClock.Instant?

    /// Marks the end of the replay into the scratch files.
    mutating func replayed() { replayedAt = .now }

    /// Runs one step (a write transaction of the live file) and keeps its duration.
    mutating func step<T>(_ body: () throws -> T) rethrows -> T {
        let begun = ContinuousClock.now
        let result = try body()
        longest = max(longest, (ContinuousClock.now - begun).seconds)
        steps += 1
        return result
    }

    /// Runs the exchange's transaction and keeps its duration; when it returns is when the
    /// rebuilt projections went live.
    mutating func exchange<T>(_ body: () throws -> T) rethrows -> T {
        let begun = ContinuousClock.now
        let result = try body()
        let now = ContinuousClock.now
        exchangeSeconds = (now - begun).seconds
        live = now
        return result
    }

    /// The report once the retired rows are gone.
    func report(_ transfer: PartnerTransfer, exchanged: (events: UInt64, checkpoint: UInt64)) -> RebuildReport {
        let live = live ?? .now
        let replayedAt = replayedAt ?? started
        return RebuildReport(
            events: exchanged.checkpoint,
            seconds: (live - started).seconds, exchangeSeconds: exchangeSeconds, eventsAtExchange: exchanged.events,
            longestStepSeconds: longest, steps: steps, rowsCopied: transfer.rowsCopied,
            replaySeconds: (replayedAt - started).seconds, moveSeconds: (live - replayedAt).seconds - exchangeSeconds,
            rowsRetired: transfer.rowsRemoved, retireSeconds: (ContinuousClock.now - live).seconds,
            checkpoint: exchanged.checkpoint)
    }
}

extension Duration {
    /// The duration in seconds, as a fraction.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension BotrixService {
    /// Rebuilds every projection online, in process: the same driver as `botrix rebuild`
    /// (``BotrixStore/rebuild(only:yieldingToWriters:progress:)``), on a thread of its own,
    /// with each step of the move into the partners, the exchange, and each step of removing
    /// the retired rows one operation of this service's writer, so commands wait for one of
    /// them at a time.
    public func rebuild(progress: @escaping @Sendable (UInt64) -> Void = { _ in }) async throws -> RebuildReport {
        let (store, projections, writer) = (store, projections, writer)
        return try await SystemThread.run(named: "botrix-rebuild") {
            try store.rebuildOnline(
                live: projections, only: nil, through: WriterCommits(writer: writer), progress: progress)
        }
    }
}

/// How an online rebuild's steps reach the live file.
protocol RebuildCommits {
    /// Runs `body` in one write transaction of the live file and returns once it committed.
    func commit<T: Sendable>(_ body: @escaping @Sendable (inout LogTransaction) throws -> T) throws -> T
    /// Called after each step.
    func afterStep()
}

/// `botrix rebuild`: each step is a write transaction of its own, and while a server runs
/// on the file (looked at after every step; `yieldingToWriters` true or false decides
/// instead) the step is followed by a pause of ``BotrixStore/stepPause`` µs. LMDB's writer
/// lock is not fair: a process that releases it and asks again at once nearly always gets
/// it back before a waiting server's writer has woken, and that server waited for a whole
/// phase of steps (0.6–1.2 s at a million events).
struct DirectCommits: RebuildCommits {
    let log: EventLog
    let yieldingToWriters: Bool?

    func commit<T: Sendable>(_ body: @escaping @Sendable (inout LogTransaction) throws -> T) throws -> T {
        try log.environment.write(makingRoom: 8) { txn in
            var ltx = LogTransaction(log: log, transaction: txn, now: 0)
            return try body(&ltx)
        }
    }

    func afterStep() {
        if yieldingToWriters ?? (ServerPresence.server(of: log.environment.path) != nil) {
            usleep(BotrixStore.stepPause)
        }
    }
}

/// A running service: each step is one operation of its group-commit writer, so commands
/// wait for one step at a time and need no pause. The rebuild runs on a thread of its own
/// (``BotrixService/rebuild(progress:)``), which waits here for each step's commit.
struct WriterCommits: RebuildCommits {
    let writer: GroupCommitWriter

    func commit<T: Sendable>(_ body: @escaping @Sendable (inout LogTransaction) throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await writer.perform(body)) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    func afterStep() {}
}
