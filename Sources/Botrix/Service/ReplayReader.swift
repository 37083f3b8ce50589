import EventLog
import Foundation

/// A page of the log read and decoded ahead of the projections that fold it.
public struct DecodedPage: Sendable {
    /// The events this version knows, decoded, in log order.
    public var events: [(event: DomainEvent, position: EventPosition)]
    /// How many recorded events the page held (unknown types included).
    public var recorded: Int
    /// The sequence of its last recorded event: where the next page starts.
    public var last: UInt64
}

/// Reads and decodes the log on a thread of its own while the caller folds the pages it
/// has already handed over: a replay (an online rebuild, `verify`) spends about a third
/// of its time reading records and decoding their JSON, which this moves off the thread
/// that writes the projections.
///
/// At most ``ahead`` pages wait decoded; with the one being decoded, the one being folded
/// and folded ones not yet freed, a handful of pages of ``pageSize`` events are in memory
/// at once however far the reader could run. Each page is read in a short read transaction
/// of its own, so the reader pins no old pages of a live file.
enum ReplayReader {
    /// Decoded pages the reader may hold before it waits for the folder.
    static let ahead = 2
    /// Events per page (per read transaction).
    static let pageSize = 4096

    /// Calls `fold` with each page of `log` after `after` up to `target` (inclusive), in
    /// order, read and decoded on another thread. Returns when the pages ran out or `fold`
    /// threw; either way the reader has made its last read by then, so it never reads a
    /// store its caller has closed (its thread may still be releasing what it held for a
    /// moment after). A read or decode error is thrown here once the pages before it are
    /// folded; a thread the system refuses is thrown at once (``SystemThread/Refused``).
    static func replay(
        _ log: EventLog, after: UInt64, through target: UInt64, fold: (DecodedPage) throws -> Void
    ) throws {
        try replay(after: after, through: target, read: { try log.read(after: $0, limit: pageSize) }, fold: fold)
    }

    /// ``replay(_:after:through:fold:)`` with the page reading given: `read(position)` returns
    /// up to ``pageSize`` events after `position` (the tests count the reads).
    static func replay(
        after: UInt64, through target: UInt64, read: @escaping @Sendable (UInt64) throws -> [RecordedEvent],
        fold: (DecodedPage) throws -> Void
    ) throws {
        let handoff = Handoff(capacity: ahead)
        // A thread the system refuses is an error here, not a wait for pages that never come.
        try SystemThread.start(named: "botrix-replay") {
            var position = after
            while position < target, handoff.wanted {
                let page = Result { () throws -> DecodedPage? in
                    let recorded = try read(position).filter { $0.sequence <= target }
                    guard let last = recorded.last else { return nil }
                    return DecodedPage(
                        events: try Projections.decode(page: recorded), recorded: recorded.count, last: last.sequence)
                }
                guard case .success(let decoded?) = page else {
                    if case .failure(let error) = page { handoff.put(.failure(error)) }
                    break
                }
                handoff.put(.success(decoded))
                position = decoded.last
                handoff.dropRetired()
            }
            handoff.finish()
        }
        defer { handoff.stop() }
        while let page = handoff.take() {
            try fold(page.get())
            handoff.retire(page)
        }
    }
}

/// The bounded queue between the reader thread and the folder, with the two ends' ways
/// of stopping: the reader finishes (no more pages), the folder stops (an error; the
/// reader's next wait returns, and ``stop()`` waits for its last read).
private final class Handoff: @unchecked Sendable {
    // Every field below is read and written with `condition` locked.
    private let condition = NSCondition()
    private let capacity: Int
    private var pages: [Result<DecodedPage, any Error>] = []
    private var finished = false
    private var stopped = false
    /// Pages the folder is done with, for the reader to free: freeing a page's events (their
    /// strings and arrays) is a twentieth of a replay's work, which this keeps off the folder.
    private var retired: [Result<DecodedPage, any Error>] = []

    init(capacity: Int) { self.capacity = capacity }

    /// False once the folder has stopped: the reader reads no further.
    var wanted: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopped
    }

    /// The reader hands over a page, waiting while ``capacity`` pages are waiting (the
    /// page is dropped when the folder has stopped).
    func put(_ page: Result<DecodedPage, any Error>) {
        condition.lock()
        defer { condition.unlock() }
        while pages.count >= capacity && !stopped { condition.wait() }
        if !stopped { pages.append(page) }
        condition.broadcast()
    }

    /// The folder hands back a page it has folded.
    func retire(_ page: consuming Result<DecodedPage, any Error>) {
        condition.lock()
        defer { condition.unlock() }
        retired.append(page)
    }

    /// The reader frees the pages handed back (outside the lock).
    func dropRetired() {
        condition.lock()
        let done = retired
        retired = []
        condition.unlock()
        _ = consume done
    }

    /// The reader has ended: no page follows.
    func finish() {
        condition.lock()
        defer { condition.unlock() }
        finished = true
        condition.broadcast()
    }

    /// The next page in order, waiting for it; nil when the reader has ended and every
    /// page is taken.
    func take() -> Result<DecodedPage, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while pages.isEmpty && !finished { condition.wait() }
        guard !pages.isEmpty else { return nil }
        condition.broadcast()
        return pages.removeFirst()
    }

    /// The folder is done (all taken, or it failed): wakes the reader if it waits, and
    /// returns once it has finished (made its last read).
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        pages.removeAll()
        condition.broadcast()
        while !finished { condition.wait() }
    }
}
