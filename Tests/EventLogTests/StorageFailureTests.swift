import EventLog
import Foundation
import LMDB
import Storage
import TestSupport
import Testing

/// The writer under storage failures: each injected failure fails its batch whole (every
/// caller hears of it, nothing of the batch is visible), the process stays up, and the
/// next batch commits. Then the log verifies.
@Suite("Storage failures")
struct StorageFailureTests {
    struct Rejected: Error {}

    /// 24 concurrent appends (a third of them write, then throw, which sends the batch
    /// down the nested-transaction path); returns the successes and failures.
    func burst(_ writer: GroupCommitWriter, round: Int) async -> (acked: [AppendResult], failed: [any Error]) {
        await withTaskGroup(of: Result<AppendResult, any Error>?.self) { group in
            for task in 0..<24 {
                group.addTask {
                    do {
                        if task % 3 == 0 {
                            _ = try await writer.perform { ltx -> Int in
                                _ = try ltx.append(AppendRequest(stream: "doomed-\(task)", events: [event()]))
                                throw Rejected()
                            }
                            return nil
                        }
                        return .success(
                            try await writer.append(AppendRequest(stream: "s-\(task)-\(round)", events: [event()])))
                    } catch is Rejected {
                        return nil
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var acked: [AppendResult] = []
            var failed: [any Error] = []
            for await result in group {
                switch result {
                case .success(let value): acked.append(value)
                case .failure(let error): failed.append(error)
                case nil: break
                }
            }
            return (acked, failed)
        }
    }

    @Test(
        "each failure point, failing in turn: the batch fails whole, the head stays, the next batch commits",
        arguments: [FaultInjector.Point.put, .commit, .nestedCommit, .beginWrite])
    func failingInTurn(point: FaultInjector.Point) async throws {
        let fixture = try LogFixture()
        var acknowledged: [AppendResult] = []
        for skips in 0..<12 {
            let before = try fixture.log.head()
            fixture.environment.faults.arm(point, after: skips, code: skips % 2 == 0 ? 28 : 5)
            let (acked, failed) = await burst(fixture.writer, round: skips)
            acknowledged += acked
            for error in failed {
                guard case EventLogError.storage = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
            }
            let after = try fixture.log.head()
            if acked.isEmpty {
                #expect(after == before, "a failed batch left \(after.sequence - before.sequence) events")
            }
            fixture.environment.faults.disarm()
            // The process is alive and the next write commits.
            let next = try await fixture.writer.append(AppendRequest(stream: "after-\(skips)", events: [event()]))
            acknowledged.append(next)
        }
        let report = try fixture.log.verify()
        #expect(report.isIntact, "\(report.problems)")
        for result in acknowledged {
            let stored = try fixture.log.readStream(result.stream)
            #expect(stored.contains { $0.sequence == result.lastSequence })
        }
        #expect(try fixture.log.readStream("doomed-0").isEmpty)
    }

    @Test("a failed database open leaves the process alive and the log openable")
    func databaseOpen() throws {
        // The log opens four databases; each open fails in turn, on a fresh file (handles
        // that opened are cached and not opened again).
        for skips in 0..<4 {
            let folder = TemporaryFolder()
            let environment = try folder.environment()
            environment.faults.arm(.databaseOpen, after: skips)
            #expect(throws: LMDBError.self) { _ = try EventLog(environment: environment) }
            let log = try EventLog(environment: environment)
            #expect(try log.head() == .empty)
            #expect(try log.verify().isIntact)
        }
    }

    @Test("beyond the queue limit a write is refused at once with overloaded; the queue drains")
    func admissionControl() async throws {
        let folder = TemporaryFolder()
        let environment = try folder.environment()
        let log = try EventLog(environment: environment)
        let writer = try GroupCommitWriter(log: log, options: .init(maximumQueued: 4))
        let gate = WriterGate()
        await gate.close(writer)
        let queued = (0..<4).map { n in
            Task { try await writer.append(AppendRequest(stream: "q-\(n)", events: [event()])) }
        }
        try await gate.waitQueued(writer, 4)
        #expect(writer.status.oldestWaitingSeconds > 0)
        #expect(writer.status.stalled() && !writer.status.writable(), "a full queue must not look writable")
        await #expect {
            _ = try await writer.append(AppendRequest(stream: "one-too-many", events: [event()]))
        } throws: { error in
            if case EventLogError.overloaded(let count, let limit) = error { return count == 4 && limit == 4 }
            return false
        }
        try await gate.open(writer, after: 4)
        for task in queued { _ = try await task.value }
        #expect(try log.readStream("one-too-many").isEmpty)
        _ = try await writer.append(AppendRequest(stream: "later", events: [event()]))
        #expect(writer.status.queued == 0)
    }

    @Test("the writer's status reports failures until a batch succeeds")
    func status() async throws {
        let fixture = try LogFixture()
        #expect(fixture.writer.status.writable())
        fixture.environment.faults.arm(.commit, code: 28)
        await #expect(throws: EventLogError.self) {
            _ = try await fixture.writer.append(AppendRequest(stream: "x", events: [event()]))
        }
        let failing = fixture.writer.status
        #expect(failing.consecutiveFailures == 1)
        // Not writable for `retryAfter` seconds after a failure: an hour here, so that a test
        // process starved for seconds on a busy machine cannot outwait the default 10 s.
        #expect(!failing.writable(retryAfter: 3600))
        #expect(failing.failureSummary?.outOfSpace == true)
        #expect(failing.writable(retryAfter: 0))
        _ = try await fixture.writer.append(AppendRequest(stream: "x", events: [event()]))
        #expect(fixture.writer.status.writable())
        #expect(fixture.writer.status.failureSummary == nil)
    }

    @Test("commit hooks run once per batch around the commit; a failing after-hook reaches its callers only")
    func commitHooks() async throws {
        let fixture = try LogFixture()
        let seen = HookRecorder()
        let hook = CommitHook(
            key: "test",
            beforeCommit: { _, payloads in seen.before(payloads.compactMap { $0 as? Int }) },
            afterCommit: { payloads in
                seen.after(payloads.compactMap { $0 as? Int })
                if payloads.contains(where: { ($0 as? Int) == 13 }) { throw Rejected() }
            })
        let gate = WriterGate()
        await gate.close(fixture.writer)
        let tasks = [1, 13, 2].map { n in
            Task { () -> Bool in
                do {
                    _ = try await fixture.writer.perform { ltx in
                        ltx.register(hook, payload: n)
                        _ = try ltx.append(AppendRequest(stream: "h-\(n)", events: [event()]))
                    }
                    return true
                } catch {
                    return false
                }
            }
        }
        let plain = Task { try await fixture.writer.append(AppendRequest(stream: "plain", events: [event()])) }
        try await gate.open(fixture.writer, after: 4)
        var outcomes: [Bool] = []
        for task in tasks { outcomes.append(await task.value) }
        _ = try await plain.value
        #expect(outcomes == [false, false, false])  // one after-hook run for all three, which threw
        #expect(seen.calls == [["before": [1, 13, 2]], ["after": [1, 13, 2]]])
        #expect(try fixture.log.readStream("h-13").count == 1)  // committed before the hook ran
    }
}

extension StorageFailureTests {
    @Test("a before-commit hook that fails fails only the operations that registered it")
    func failingHookIsolated() async throws {
        let fixture = try LogFixture()
        struct KeyringFull: Error {}
        let hook = CommitHook(key: "failing", beforeCommit: { _, _ in throw KeyringFull() })
        let gate = WriterGate()
        await gate.close(fixture.writer)
        let hooked = Task {
            try await fixture.writer.perform { ltx in
                ltx.register(hook, payload: 1)
                _ = try ltx.append(AppendRequest(stream: "hooked", events: [event()]))
            }
        }
        let plain = Task { try await fixture.writer.append(AppendRequest(stream: "plain", events: [event()])) }
        try await gate.open(fixture.writer, after: 2)
        await #expect(throws: KeyringFull.self) { try await hooked.value }
        _ = try await plain.value
        #expect(try fixture.log.readStream("hooked").isEmpty)
        #expect(try fixture.log.readStream("plain").count == 1)
        #expect(try fixture.log.verify().isIntact)
    }
}

final class HookRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var calls: [[String: [Int]]] = []
    func before(_ values: [Int]) { lock.withLock { calls.append(["before": values]) } }
    func after(_ values: [Int]) { lock.withLock { calls.append(["after": values]) } }
}
