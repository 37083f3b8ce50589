import Dispatch
import Foundation
import Synchronization
import Testing

@testable import BotrixServer

/// The read pool runs reads on threads of its own (not Dispatch's, which come and go with
/// load, each keeping a malloc arena), at most `limit` at once, refuses beyond its queue,
/// and its threads end with it.
@Suite("Read pool", .serialized)
struct ReadPoolTests {
    /// How many of this process's threads are named `prefix`-something.
    static func threads(named prefix: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").filter { task in
            let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            return name?.hasPrefix(prefix + "-") == true
        }.count
    }

    @Test("reads run on the pool's own threads")
    func ownThreads() async throws {
        let pool = try ReadPool(limit: 2)
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await pool.run {
                        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
                            .trimmingCharacters(in: .newlines) ?? ""
                    }
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(!names.isEmpty && names.isSubset(of: ["botrix-read-0", "botrix-read-1"]), "\(names)")
    }

    @Test("with its only slot taken and no queue, a read is refused at once; the holder finishes")
    func refusesBeyondTheQueue() async throws {
        let pool = try ReadPool(limit: 1, queueLimit: 0)
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
        await #expect(throws: Problem.self) { try await pool.run { 7 } }
        release.signal()
        #expect(try await holder.value == 1)
    }

    @Test("a pool has its limit of threads, and they end when the pool is gone")
    func threadsEnd() async throws {
        let name = "rpt\(Int.random(in: 1000...9999))"
        do {
            let pool = try ReadPool(limit: 3, name: name)
            #expect(try await pool.run { 5 } == 5)
            // Each thread names itself when it first runs: on a busy machine some start late.
            var started = try Self.threads(named: name)
            for _ in 0..<500 where started < 3 {
                try await Task.sleep(for: .milliseconds(10))
                started = try Self.threads(named: name)
            }
            #expect(started == 3)
        }
        var left = try Self.threads(named: name)
        for _ in 0..<200 where left > 0 {
            try await Task.sleep(for: .milliseconds(10))
            left = try Self.threads(named: name)
        }
        #expect(left == 0, "\(left) read threads outlived their pool")
    }
}
