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

extension BotrixService {
    /// Rebuilds every projection through the writer: the rebuild is one operation of one
    /// batch, so no command interleaves with it.
    public func rebuild() async throws -> RebuildReport {
        let projections = self.projections
        let started = ContinuousClock.now
        let events = try await writer.perform { ltx in try projections.rebuild(in: &ltx) }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return RebuildReport(events: events, seconds: seconds)
    }
}
