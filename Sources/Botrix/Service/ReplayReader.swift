import EventLog
import Foundation

/// A page of the log read and decoded ahead of the projections that fold it.
public struct DecodedPage: Sendable {
    /// The events this version knows, decoded, in log order.
    public var events: [DecodedEvent]
    /// How many recorded events the page held (unknown types included).
    public var recorded: Int
    /// The sequence of its last recorded event: where the next page starts.
    public var last: UInt64
}

/// Reads and decodes the log on a thread of its own while the caller folds the pages it
/// has already handed over: a replay (an online rebuild, `verify`) spends about a third
/// of its time reading records and decoding their JSON, which this moves off the thread
/// that writes the projections. An online rebuild folds each projection into a scratch file
/// of its own, on a thread of its own (``replay(_:after:through:fold:besides:)``): every
/// page is decoded once and folded by each.
///
/// At most ``ahead`` pages wait decoded for the slowest fold; with the one being decoded,
/// the ones being folded and folded ones not yet freed, a handful of pages of ``pageSize``
/// events are in memory at once however far the reader could run. Each page is read in a
/// short read transaction of its own, so the reader pins no old pages of a live file.
enum ReplayReader {
    /// Decoded pages the reader may hold before it waits for the folder.
    static let ahead = 2
    /// Events per page (per read transaction).
    static let pageSize = 4096

    /// Calls `fold` with each page of `log` after `after` up to `target` (inclusive), in
    /// order, read and decoded on another thread, and each of `besides` with the same pages
    /// on threads of their own (named `botrix-fold-N`). Returns when the pages ran out or a
    /// fold threw; either way the reader has made its last read and every fold has returned
    /// by then, so none of them touches a store its caller has closed (a thread may still
    /// be releasing what it held for a moment after). A read or decode error is thrown
    /// here, as is the first error a fold threw (the others stop at their next page): with
    /// one fold, once the pages before it are folded; with several, a fold that met the
    /// error first may have stopped the others short of it (their work is thrown away). A
    /// thread the system refuses is thrown at once (``SystemThread/Refused``).
    static func replay(
        _ log: EventLog, after: UInt64, through target: UInt64, fold: (DecodedPage) throws -> Void,
        besides: [@Sendable (DecodedPage) throws -> Void] = []
    ) throws {
        try replay(
            after: after, through: target, read: { try log.read(after: $0, limit: pageSize, fields: .forProjections) },
            fold: fold,
            besides: besides)
    }

    /// ``replay(_:after:through:fold:besides:)`` with the page reading given: `read(position)`
    /// returns up to ``pageSize`` events after `position` (the tests count the reads).
    static func replay(
        after: UInt64, through target: UInt64, read: @escaping @Sendable (UInt64) throws -> [RecordedEvent],
        fold: (DecodedPage) throws -> Void, besides: [@Sendable (DecodedPage) throws -> Void] = []
    ) throws {
        let handoff = Handoff(capacity: ahead + 1, lanes: 1 + besides.count)
        // A thread the system refuses is an error here, not a wait for pages that never come.
        try SystemThread.start(named: "botrix-replay") {
            var position = after
            while position < target, handoff.wanted {
                let page = Result { () throws -> DecodedPage? in
                    var recorded = try read(position)
                    // In place, and only for the last page: a filtered copy copied every event.
                    if let last = recorded.last, last.sequence > target { recorded.removeAll { $0.sequence > target } }
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
        for (index, other) in besides.enumerated() {
            let lane = index + 1
            handoff.started()
            do {
                try SystemThread.start(named: "botrix-fold-\(lane)") {
                    do {
                        while let page = handoff.take(lane: lane) {
                            try other(page.get())
                            handoff.retire(lane: lane)
                        }
                    } catch {
                        handoff.fail(error)
                    }
                    handoff.ended()
                }
            } catch {
                handoff.ended()
                throw error
            }
        }
        while let page = handoff.take(lane: 0) {
            try fold(page.get())
            handoff.retire(lane: 0)
        }
        // The pages ran out for this fold: wait for the others, then report what stopped one.
        handoff.waitForLanes()
        if let error = handoff.failure { throw error }
    }
}

/// The bounded queue between the reader thread and the folds, with the ends' ways of
/// stopping: the reader finishes (no more pages), a fold stops (an error; the reader's next
/// wait returns, the other folds' next ``take(lane:)`` returns nil, and ``stop()`` waits for
/// the reader's last read and every fold's return).
private final class Handoff: @unchecked Sendable {
    // Every field below is read and written with `condition` locked.
    private let condition = NSCondition()
    private let capacity: Int
    /// Pages some fold has not finished, the first being page number ``base``.
    private var pages: [Result<DecodedPage, any Error>] = []
    private var base = 0
    /// For each fold, the number of the next page it takes and of pages it has finished.
    private var taken: [Int]
    private var finishedBy: [Int]
    private var finished = false
    private var stopped = false
    /// Fold threads that have not returned.
    private var running = 0
    /// The first error a fold thread threw.
    private var firstFailure: (any Error)?
    /// Pages every fold is done with, for the reader to free: freeing a page's events (their
    /// strings and arrays) is a twentieth of a replay's work, which this keeps off the folds.
    private var retired: [Result<DecodedPage, any Error>] = []

    init(capacity: Int, lanes: Int) {
        self.capacity = capacity
        taken = Array(repeating: 0, count: lanes)
        finishedBy = Array(repeating: 0, count: lanes)
    }

    /// False once a fold has stopped: the reader reads no further.
    var wanted: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopped
    }

    /// The reader hands over a page, waiting while ``capacity`` pages are unfinished (the
    /// page is dropped when a fold has stopped).
    func put(_ page: Result<DecodedPage, any Error>) {
        condition.lock()
        defer { condition.unlock() }
        while pages.count >= capacity && !stopped { condition.wait() }
        if !stopped { pages.append(page) }
        condition.broadcast()
    }

    /// Fold `lane` has finished the page it took last; a page every fold finished is retired.
    func retire(lane: Int) {
        condition.lock()
        defer { condition.unlock() }
        finishedBy[lane] += 1
        // After ``stop()`` the pages are gone: a fold finishing its last one retires nothing.
        guard !stopped else { return }
        let done = finishedBy.min() ?? 0
        guard done > base else { return }
        retired.append(contentsOf: pages.prefix(done - base))
        pages.removeFirst(done - base)
        base = done
        condition.broadcast()
    }

    /// The reader frees the pages retired (outside the lock).
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

    /// The next page in order for fold `lane`, waiting for it; nil when the reader has
    /// ended and the fold has taken every page, or when a fold has stopped.
    func take(lane: Int) -> Result<DecodedPage, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while taken[lane] - base >= pages.count && !finished && !stopped { condition.wait() }
        guard !stopped, taken[lane] - base < pages.count else { return nil }
        taken[lane] += 1
        return pages[taken[lane] - 1 - base]
    }

    /// A fold thread is about to start.
    func started() {
        condition.lock()
        defer { condition.unlock() }
        running += 1
    }

    /// A fold thread has returned (or never started).
    func ended() {
        condition.lock()
        defer { condition.unlock() }
        running -= 1
        condition.broadcast()
    }

    /// A fold thread threw: every fold and the reader stop; the first error is kept.
    func fail(_ error: any Error) {
        condition.lock()
        defer { condition.unlock() }
        if firstFailure == nil { firstFailure = error }
        stopped = true
        condition.broadcast()
    }

    /// What the first fold thread to fail threw.
    var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return firstFailure
    }

    /// Waits until every fold thread has returned.
    func waitForLanes() {
        condition.lock()
        defer { condition.unlock() }
        while running > 0 { condition.wait() }
    }

    /// The caller's fold is done (all taken, or it failed): wakes the reader and the fold
    /// threads if they wait, and returns once they have finished (the reader made its last
    /// read, every fold returned).
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        pages.removeAll()
        condition.broadcast()
        while !finished || running > 0 { condition.wait() }
    }
}
