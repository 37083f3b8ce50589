import Dispatch
import EventLog
import Foundation
import LMDB
import Storage
import Synchronization
import Testing

@Suite("Group commit under concurrency")
struct ConcurrencyTests {
    enum Outcome: Sendable {
        case appended(task: Int, attempt: Int, AppendResult)
        case conflict(task: Int, attempt: Int)
    }

    @Test("64 tasks on shared and own streams: gapless, contiguous, readable, conflicts to the losers only")
    func sixtyFourAppenders() async throws {
        let fixture = try LogFixture()
        let writer = fixture.writer
        let log = fixture.log
        let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
            for task in 0..<64 {
                group.addTask {
                    var mine: [Outcome] = []
                    for attempt in 0..<10 {
                        let own = AppendRequest(
                            stream: "own-\(task)", events: [event("Own", ["task": task, "attempt": attempt])])
                        mine.append(.appended(task: task, attempt: attempt, try await writer.append(own)))
                        // Race everyone for the shared stream with an optimistic version check.
                        let seen = try log.environment.read { try log.streamVersion("shared", in: $0) }
                        let shared = AppendRequest(
                            stream: "shared", expectedVersion: .exact(seen),
                            events: [event("Shared", ["task": task, "attempt": attempt])])
                        do {
                            mine.append(.appended(task: task, attempt: attempt, try await writer.append(shared)))
                        } catch EventLogError.versionConflict(let stream, let expected, let actual) {
                            #expect(stream == "shared" && expected == seen && actual > seen)
                            mine.append(.conflict(task: task, attempt: attempt))
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }

        let all = try log.read(after: 0, limit: .max)
        #expect(all.map(\.sequence) == Array(1...UInt64(all.count)))
        var versions: [String: [UInt64]] = [:]
        for e in all { versions[e.stream, default: []].append(e.version) }
        for (_, list) in versions { #expect(list == Array(1...UInt64(list.count))) }

        let bySequence = Dictionary(uniqueKeysWithValues: all.map { ($0.sequence, $0) })
        var sharedWinners = Set<[Int]>()
        var losers = Set<[Int]>()
        for outcome in outcomes {
            switch outcome {
            case .appended(let task, let attempt, let result):
                let stored = try #require(bySequence[result.firstSequence])
                #expect(stored.stream == result.stream && stored.version == result.firstVersion)
                #expect(field(stored, "task") == task && field(stored, "attempt") == attempt)
                if result.stream == "shared" { sharedWinners.insert([task, attempt]) }
            case .conflict(let task, let attempt):
                losers.insert([task, attempt])
            }
        }
        let sharedInLog = Set(all.filter { $0.stream == "shared" }.map { [field($0, "task")!, field($0, "attempt")!] })
        #expect(sharedInLog == sharedWinners)
        #expect(sharedInLog.isDisjoint(with: losers))
        #expect(sharedWinners.count + losers.count == 640)
        #expect(all.filter { $0.stream.hasPrefix("own-") }.count == 640)
        #expect(try log.verify().isIntact)
    }

    @Test("a storage failure fails every caller in the batch and writes nothing")
    func storageFailureFailsBatch() async throws {
        let fixture = try LogFixture()
        let writer = fixture.writer
        _ = try await writer.append(AppendRequest(stream: "before", events: [event()]))
        let scratch = try fixture.environment.database("scratch")
        // Hold the writer so the next two operations queue up and share one batch.
        let gate = WriterGate()
        await gate.close(writer)
        let good = Task { try await writer.append(AppendRequest(stream: "good", events: [event()])) }
        try await gate.waitQueued(writer, 1)
        let broken = Task {
            try await writer.perform { txn in
                _ = try txn.append(AppendRequest(stream: "broken", events: [event()]))
                try txn.put(scratch, [], [1])  // LMDB refuses an empty key
            }
        }
        try await gate.open(writer, after: 2)
        await #expect(throws: EventLogError.self) { _ = try await good.value }
        await #expect {
            try await broken.value
        } throws: { error in
            if case .storage(let storage) = error as? EventLogError, case .invalidKey = storage as? LMDBError {
                return true
            }
            return false
        }
        #expect(try fixture.log.head().sequence == 1)
        #expect(try fixture.log.readStream("good").isEmpty)
        _ = try await writer.append(AppendRequest(stream: "after", events: [event()]))
        #expect(try fixture.log.head().sequence == 2)
    }

    @Test("a batch that fills the map grows it and commits")
    func mapGrowsUnderWriter() async throws {
        let fixture = try LogFixture(mapSize: 1 << 18)
        let big = ProposedEvent(type: "Big", data: Array("{\"pad\":\"\(String(repeating: "x", count: 3000))\"}".utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<300 {
                group.addTask { _ = try await fixture.writer.append(AppendRequest(stream: "s-\(n)", events: [big])) }
            }
            try await group.waitForAll()
        }
        #expect(try fixture.log.head().sequence == 300)
        #expect(fixture.environment.info.mapSize > 1 << 18)
        #expect(try fixture.log.verify().isIntact)
    }

    @Test("after shutdown the writer refuses work with a clear error")
    func shutdown() async throws {
        let fixture = try LogFixture()
        _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event()]))
        await fixture.writer.shutdown()
        #expect(!fixture.writer.isRunning)
        await #expect(throws: EventLogError.writerStopped) {
            _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event()]))
        }
    }

    /// Which shutdown calls have returned.
    final class Returned: Sendable {
        let order = Mutex([Int]())
    }

    @Test("a second shutdown also returns only once the batch in flight has committed")
    func secondShutdownWaits() async throws {
        let fixture = try LogFixture()
        let writer = fixture.writer
        let entered = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let inFlight = Task {
            try await writer.perform { _ in
                entered.signal()
                gate.wait()  // holds the writer thread inside its batch
            }
        }
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                entered.wait(); done.resume()
            }
        }
        let returned = Returned()
        let first = Task {
            await writer.shutdown()
            returned.order.withLock { $0.append(1) }
        }
        while writer.isRunning { await Task.yield() }
        let second = Task {
            await writer.shutdown()
            returned.order.withLock { $0.append(2) }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(returned.order.withLock { $0 }.isEmpty, "a shutdown returned while a batch was still committing")
        gate.signal()
        try await inFlight.value
        await first.value
        await second.value
        #expect(returned.order.withLock { $0 }.sorted() == [1, 2])
    }
}

@Suite("Group commit isolation")
struct IsolationTests {
    @Test("an operation that writes and then throws is undone alone; its batch commits")
    func wroteThenThrew() async throws {
        let fixture = try LogFixture()
        let writer = fixture.writer
        struct Rejected: Error {}
        let gate = WriterGate()
        await gate.close(writer)
        let before = Task { try await writer.append(AppendRequest(stream: "before", events: [event()])) }
        try await gate.waitQueued(writer, 1)
        let bad = Task {
            try await writer.perform { txn in
                _ = try txn.append(AppendRequest(stream: "bad", events: [event()]))
                throw Rejected()
            }
        }
        try await gate.waitQueued(writer, 2)
        let after = Task { try await writer.append(AppendRequest(stream: "after", events: [event()])) }
        try await gate.open(writer, after: 3)
        #expect(try await before.value.firstSequence == 1)
        await #expect(throws: Rejected.self) { try await bad.value }
        #expect(try await after.value.firstSequence == 2)
        #expect(try fixture.log.readStream("bad").isEmpty)
        #expect(try fixture.log.verify().isIntact)
    }

    @Test("the JSON validator accepts objects and refuses everything else")
    func validator() async throws {
        let fixture = try LogFixture()
        let good = [#"{}"#, #" {"a":[1,-2.5e3,true,false,null,{"b":"\u00e9\n"}]} "#, #"{"x":{"y":{"z":[]}}}"#]
        let bad = [
            #"[]"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":01}"#, #"{'a':1}"#, #"{"a":"\x"}"#, #"{"a":1} {}"#,
            "{\"a\":\"\u{1}\"}", #"{"a":tru}"#,
        ]
        for text in good {
            _ = try await fixture.writer.append(
                AppendRequest(stream: "s", events: [ProposedEvent(type: "E", data: Array(text.utf8))]))
        }
        for text in bad {
            await #expect(throws: EventLogError.self, "\(text)") {
                _ = try await fixture.writer.append(
                    AppendRequest(stream: "s", events: [ProposedEvent(type: "E", data: Array(text.utf8))]))
            }
        }
        #expect(try fixture.log.head().sequence == UInt64(good.count))
    }
}
