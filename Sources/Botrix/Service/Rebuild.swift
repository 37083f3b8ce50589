public import EventLog
import Storage

/// What a rebuild did.
public struct RebuildReport: Sendable {
    public var events: UInt64
    public var seconds: Double
    public var eventsPerSecond: Double { seconds > 0 ? Double(events) / seconds : 0 }
}

extension Projections {
    /// Empties every projection and replays the whole log into it, inside `ltx`'s
    /// transaction: a crash before the commit leaves the old projections, after it the
    /// new ones, never a mix. `progress` receives the sequence reached every 10,000 events.
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
            for event in page {
                try apply(event, nil, in: &ltx, only: only)
                replayed += 1
                if replayed % 10_000 == 0 { progress(event.sequence) }
            }
            after = last.sequence
        }
        if after > 0 { try setCheckpoint(after, in: &ltx, only: only) }
        return replayed
    }
}

extension Projections {
    /// ``rebuild(in:only:progress:)`` in a write transaction of its own on `log`'s store,
    /// growing the store when it fills: for code that owns the store outright (the CLI, a
    /// backup's copy, the benchmark), with no writer of this process running on it.
    public func rebuild(
        log: EventLog, only: Set<String>? = nil, progress: (UInt64) -> Void = { _ in }
    ) throws -> UInt64 {
        try log.environment.write(makingRoom: 8) { txn in
            var ltx = LogTransaction(log: log, transaction: txn, now: 0)
            return try rebuild(in: &ltx, only: only, progress: progress)
        }
    }
}

extension BotrixStore {
    /// Rebuilds the registered projections (the named ones when `only` is set) in one write
    /// transaction: `botrix rebuild`. A server on the same file waits for it to commit.
    public func rebuild(only: Set<String>? = nil, progress: (UInt64) -> Void = { _ in }) throws -> RebuildReport {
        let projections = try Projections(store: self)
        let started = ContinuousClock.now
        let events = try projections.rebuild(log: log, only: only, progress: progress)
        return RebuildReport(events: events, seconds: (ContinuousClock.now - started).seconds)
    }
}

extension Duration {
    /// The duration in seconds, as a fraction.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension BotrixService {
    /// Rebuilds every projection through the writer: the rebuild is one operation of one
    /// batch, so no command interleaves with it.
    public func rebuild() async throws -> RebuildReport {
        let projections = self.projections
        let started = ContinuousClock.now
        let events = try await writer.perform { ltx in try projections.rebuild(in: &ltx) }
        return RebuildReport(events: events, seconds: (ContinuousClock.now - started).seconds)
    }
}
