public import EventLog
import Storage

/// A page of the log as a bounded read returns it.
public struct EventPage: Sendable {
    /// The events that matched, in sequence order.
    public var events: [RecordedEvent]
    /// The log's head when the page was read.
    public var head: UInt64
    /// What to send as `after` to go on: the last sequence examined (matched or not);
    /// nil when nothing was examined (then keep the `after` you sent).
    public var next: UInt64?
    /// True when the read stopped at its limit or budget before the end of what it reads.
    public var more: Bool
    /// Entries the read examined: at most the budget it was given (tests assert on it).
    public var examined: Int
}

/// Which events a read returns.
public struct EventFilter: Sendable, Equatable {
    /// One stream (`job-<uuid>`, `account-<id>`), read through the stream index.
    public var stream: String?
    /// One event type; without an index for it, the read examines events in order, at most
    /// its budget per request, and says where to go on.
    public var type: String?

    public init(stream: String? = nil, type: String? = nil) {
        self.stream = stream
        self.type = type
    }
}

/// The bounded reads of the log: each request examines at most `budget` entries (and
/// returns at most `limit` events) in one short read transaction, and names where the next
/// request goes on. A rare type on a long log is read in several short requests instead of
/// one that holds a reader (and a cooperative thread) for seconds.
extension BotrixService {
    public func events(after: UInt64, limit: Int, filter: EventFilter = EventFilter(), budget: Int) throws -> EventPage
    {
        let log = store.log
        return try store.environment.read { txn in
            let head = try log.head(in: txn).sequence
            var page = EventPage(events: [], head: head, next: nil, more: false, examined: 0)
            func take(_ event: RecordedEvent) -> Bool {
                page.examined += 1
                page.next = event.sequence
                if filter.type == nil || event.type == filter.type { page.events.append(event) }
                return page.events.count < limit && page.examined < budget
            }
            if let stream = filter.stream {
                guard var version = try log.firstVersion(of: stream, afterSequence: after, in: txn) else { return page }
                let last = try log.streamVersion(stream, in: txn)
                reading: while version <= last {
                    let batch = try log.readStream(
                        stream, afterVersion: version - 1, limit: min(256, budget - page.examined), in: txn)
                    if batch.isEmpty { break }
                    for event in batch {
                        version += 1
                        if !take(event) { break reading }
                    }
                }
                page.more = version <= last
            } else {
                try log.forEach(after: after, in: txn) { take($0) }
                page.more = (page.next ?? after) < head
            }
            return page
        }
    }
}

/// A page of the log read backwards: the newest matches at or below a sequence.
public struct NewestEvents: Sendable {
    /// The matches, in sequence order (the newest last).
    public var events: [RecordedEvent]
    /// The log's head when the page was read.
    public var head: UInt64
    /// Where the page before this one ends (pass it as `through`): below the oldest match
    /// shown when the page is full, else below the window read; nil at the start of the log.
    public var earlier: UInt64?
}

extension BotrixService {
    /// The newest `limit` events of type `type` (any type when nil) among the `window`
    /// events ending at `through` (the head when nil): one forward read of at most `window`
    /// events. Pages following `earlier` neither skip nor repeat a match.
    public func newestEvents(through: UInt64? = nil, limit: Int, type: String?, window: Int) throws -> NewestEvents {
        let log = store.log
        return try store.environment.read { txn in
            let head = try log.head(in: txn).sequence
            let end = min(through ?? head, head)
            let start = end - min(end, UInt64(max(window, limit)))
            var matches: [RecordedEvent] = []
            try log.forEach(after: start, in: txn) { event in
                guard event.sequence <= end else { return false }
                if type == nil || event.type == type {
                    matches.append(event)
                    if matches.count > limit { matches.removeFirst() }
                }
                return true
            }
            let earlier: UInt64
            if matches.count == limit, let oldest = matches.first {
                earlier = oldest.sequence - 1
            } else {
                earlier = start
            }
            return NewestEvents(events: matches, head: head, earlier: earlier > 0 ? earlier : nil)
        }
    }
}
