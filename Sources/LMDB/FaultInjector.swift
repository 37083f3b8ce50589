import Synchronization

/// Makes chosen LMDB calls of one environment fail, so tests can prove that every failure
/// path leaves the process alive, the data unchanged and every handle owned correctly.
///
/// A failure is injected *instead of* the real call and behaves as LMDB's own failure
/// would: an injected commit failure ends the transaction (as `mdb_txn_commit` does on
/// every error), so the code under test must not touch it again. Unarmed, the cost is one
/// relaxed atomic load per call.
public final class FaultInjector: Sendable {
    /// The places where a failure can be injected.
    public enum Point: String, Sendable, CaseIterable {
        case put, delete, commit, nestedCommit, databaseOpen, beginWrite
    }

    private struct Plan {
        var skips: Int
        var code: Int32
        var remaining: Int
    }

    private let armed = Atomic<Bool>(false)
    private let state = Mutex<(plans: [Point: Plan], calls: [Point: Int])>(([:], [:]))

    init() {}

    /// Fails the call at `point` after `skips` calls that succeed, `times` times in a row
    /// (`Int.max`: until ``disarm()``), with LMDB or errno `code` (default EIO).
    public func arm(_ point: Point, after skips: Int = 0, times: Int = 1, code: Int32 = 5) {
        state.withLock { $0.plans[point] = Plan(skips: skips, code: code, remaining: times) }
        armed.store(true, ordering: .relaxed)
    }

    /// Removes every planned failure.
    public func disarm() {
        state.withLock { $0.plans = [:] }
    }

    /// How many calls reached `point` since the environment opened (counted while armed
    /// only; arm a point with a huge `after` to count without failing).
    public func calls(_ point: Point) -> Int { state.withLock { $0.calls[point] ?? 0 } }

    /// The code to fail with instead of making the call, or nil to make it.
    @inline(__always)
    func failure(at point: Point) -> Int32? {
        guard armed.load(ordering: .relaxed) else { return nil }
        return state.withLock { state -> Int32? in
            state.calls[point, default: 0] += 1
            guard var plan = state.plans[point] else { return nil }
            if plan.skips > 0 {
                plan.skips -= 1
                state.plans[point] = plan
                return nil
            }
            plan.remaining -= 1
            state.plans[point] = plan.remaining > 0 ? plan : nil
            return plan.code
        }
    }
}
