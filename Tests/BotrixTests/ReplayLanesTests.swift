import EventLog
import Foundation
import Storage
import TestSupport
import Testing

@testable import Botrix

/// Pages decoded once and folded by several folds on threads of their own (an online
/// rebuild's scratch file per projection): every fold gets every page in order, the first
/// error stops them all, and no fold runs once the replay has returned.
@Suite("Replay lanes")
struct ReplayLanesTests {
    /// What a fold thread saw, kept across threads.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var sequences: [UInt64] = []
        private var pages = 0
        private var threads: Set<String> = []
        private var running = false
        private(set) var overlapped = false
        func fold(_ page: DecodedPage, pause: Double = 0) {
            lock.withLock {
                running = true
                pages += 1
                threads.insert(ThreadName.current)
                sequences += page.events.map(\.position.sequence)
            }
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
            lock.withLock { running = false }
        }
        var all: [UInt64] { lock.withLock { sequences } }
        var count: Int { lock.withLock { pages } }
        var names: Set<String> { lock.withLock { threads } }
        var isRunning: Bool { lock.withLock { running } }
        /// The last page's `recorded` and `last` fields (the watcher's way to hand over two counts).
        private(set) var lastPage = (0, 0)
        func note(_ page: DecodedPage) { lock.withLock { lastPage = (page.recorded, Int(page.last)) } }
    }

    struct Stop: Error, Equatable { let lane: Int }

    @Test("every fold gets every page in order, each on a thread of its own", arguments: [1, 3])
    func everyFoldEveryPage(others: Int) throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try ReplayPathTests.recordedStore(seed: 41, count: 14_000, in: folder)
        let head = recorded.last!.sequence
        for (after, target) in [(UInt64(0), head), (9, head - 5)] {
            let seen = (0..<others).map { _ in Seen() }
            var mine: [UInt64] = []
            try ReplayReader.replay(
                store.log, after: after, through: target, fold: { mine += $0.events.map(\.position.sequence) },
                besides: seen.map { lane in { lane.fold($0) } })
            let expected = recorded.filter { $0.sequence > after && $0.sequence <= target }.map(\.sequence)
            #expect(mine == expected)
            for (n, lane) in seen.enumerated() {
                #expect(lane.all == expected, "fold \(n + 1)")
                #expect(lane.names == ["botrix-fold-\(n + 1)"])
            }
        }
    }

    @Test("a fold thread that throws stops the replay with its error, and every fold has returned")
    func otherFoldThrows() throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try ReplayPathTests.recordedStore(seed: 42, count: 30_000, in: folder)
        let slow = Seen()
        let failing = Seen()
        var mine = 0
        #expect(throws: Stop(lane: 2)) {
            try ReplayReader.replay(
                store.log, after: 0, through: recorded.last!.sequence, fold: { _ in mine += 1 },
                besides: [
                    { slow.fold($0, pause: 0.05) },
                    { page in
                        failing.fold(page)
                        if failing.count == 2 { throw Stop(lane: 2) }
                    },
                ])
        }
        #expect(!slow.isRunning, "a fold was still running when the replay returned")
        let pages = (recorded.count + ReplayReader.pageSize - 1) / ReplayReader.pageSize
        #expect(failing.count == 2)
        #expect(slow.count < pages && mine < pages, "the others stopped early")
        let after = slow.count
        Thread.sleep(forTimeInterval: 0.2)
        #expect(slow.count == after, "a fold ran after the replay returned")
    }

    @Test("when the caller's fold throws, the fold threads have returned before the replay does")
    func ownFoldThrows() throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try ReplayPathTests.recordedStore(seed: 43, count: 20_000, in: folder)
        let slow = Seen()
        var mine = 0
        #expect(throws: Stop(lane: 0)) {
            try ReplayReader.replay(
                store.log, after: 0, through: recorded.last!.sequence,
                fold: { _ in
                    mine += 1
                    if mine == 2 { throw Stop(lane: 0) }
                }, besides: [{ slow.fold($0, pause: 0.1) }])
        }
        #expect(!slow.isRunning, "a fold was still running when the replay returned")
        let after = slow.count
        #expect(after >= 1)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(slow.count == after, "a fold ran after the replay returned")
    }

    @Test("a fold that does not finish its page holds the reader and the other folds back")
    func slowFoldBoundsTheReader() throws {
        let folder = TemporaryFolder()
        let (store, recorded) = try ReplayPathTests.recordedStore(seed: 44, count: 30_000, in: folder)
        let log = store.log
        let reads = ReplayPathTests.Reads()
        let slow = Seen()
        let release = DispatchSemaphore(value: 0)
        let mine = Seen()
        // While the slow fold holds its first page, look at how far the others got.
        let observed = Seen()
        let watcher = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            let page = DecodedPage(events: [], recorded: mine.count, last: UInt64(reads.count))
            observed.note(page)
            observed.fold(page)
            release.signal()
        }
        watcher.start()
        try ReplayReader.replay(
            after: 0, through: recorded.last!.sequence,
            read: { position in
                reads.add()
                return try log.read(after: position, limit: ReplayReader.pageSize)
            },
            fold: { mine.fold($0) },
            besides: [
                { page in
                    if slow.count == 0 { release.wait() }
                    slow.fold(page)
                }
            ])
        let pages = (recorded.count + ReplayReader.pageSize - 1) / ReplayReader.pageSize
        #expect(pages > 2 * ReplayReader.ahead + 2)
        // Unfinished pages are at most `ahead` + 1 (the slow fold's own among them); the
        // reader holds one more that it could not hand over.
        #expect(observed.count == 1)
        let (foldedMeanwhile, readMeanwhile) = observed.lastPage
        #expect(foldedMeanwhile <= ReplayReader.ahead + 1)
        #expect(readMeanwhile <= ReplayReader.ahead + 2)
        #expect(mine.count == pages && slow.count == pages, "released, both folded every page")
    }
}
