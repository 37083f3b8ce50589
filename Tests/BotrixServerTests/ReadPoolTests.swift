import Dispatch
import Synchronization
import Testing

@testable import BotrixServer

/// Bounded page reads run on the caller's thread; everything else still waits for (and is
/// limited by) the pool. These hold both halves with the pool's only slot taken.
@Suite("Read pool")
struct ReadPoolTests {
    /// A pool whose single slot is held by a read blocked until `release` is signalled.
    private static func occupiedPool() async throws -> (ReadPool, DispatchSemaphore, Task<Int, any Error>) {
        let pool = ReadPool(limit: 1, queueLimit: 0)
        let release = DispatchSemaphore(value: 0)
        let entered = Atomic<Bool>(false)
        let holder = Task {
            try await pool.run {
                entered.store(true, ordering: .sequentiallyConsistent)
                release.wait()
                return 1
            }
        }
        for _ in 0..<500 where !entered.load(ordering: .sequentiallyConsistent) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let started = entered.load(ordering: .sequentiallyConsistent)
        try #require(started, "the holding read never started")
        return (pool, release, holder)
    }

    @Test("a bounded read answers while every pool slot is taken")
    func boundedRunsInline() async throws {
        let (pool, release, holder) = try await Self.occupiedPool()
        defer { release.signal() }
        let answer = try await pool.run(bounded: true) { 42 }
        #expect(answer == 42)
        release.signal()
        #expect(try await holder.value == 1)
    }

    @Test("an unbounded read still goes to the pool: with its slot taken and no queue, it is refused")
    func unboundedUsesThePool() async throws {
        let (pool, release, holder) = try await Self.occupiedPool()
        await #expect(throws: Problem.self) { try await pool.run(bounded: false) { 7 } }
        release.signal()
        #expect(try await holder.value == 1)
    }
}
