import Foundation
import Testing

@testable import EventLog

/// Threads that run Botrix's long work carry names the system shows (`top -H`, `perf`).
@Suite("Thread names")
struct ThreadNameTests {
    /// Runs `body` on a new thread and returns what it returned.
    private func onNewThread(_ body: @escaping @Sendable () -> String) async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    @Test("a thread's name reaches the system, cut to the 15 bytes Linux keeps")
    func setsSystemName() async {
        let short = await onNewThread {
            ThreadName.set("botrix-named")
            return ThreadName.current
        }
        #expect(short == "botrix-named")
        let long = await onNewThread {
            ThreadName.set("botrix-a-very-long-name")
            return ThreadName.current
        }
        #expect(long == "botrix-a-very-l")
    }

    @Test("the group-commit writer's thread is named botrix-writer")
    func writerThread() throws {
        let fixture = try LogFixture()
        // The thread names itself once it runs: poll for it (bounded).
        var names: [String] = []
        for _ in 0..<600 {
            names = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
                try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            }
            if names.contains("botrix-writer\n") { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(names.contains("botrix-writer\n"), "\(Set(names))")
        withExtendedLifetime(fixture) {}
    }
}

/// A thread the system refuses is an error the caller sees, not work that never runs.
@Suite("System threads")
struct SystemThreadTests {
    /// Whether a body ran, across threads.
    final class Ran: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func mark() { lock.withLock { count += 1 } }
    }

    @Test("a started thread runs its work under its name")
    func runs() async throws {
        let name = try await SystemThread.run(named: "botrix-started") { ThreadName.current }
        #expect(name == "botrix-started")
        struct Failed: Error {}
        await #expect(throws: Failed.self) { try await SystemThread.run(named: "botrix-failing") { throw Failed() } }
    }

    @Test("a thread the system cannot start throws, and its work never runs")
    func refused() throws {
        let ran = Ran()
        // What pthread_create answers under a full pids cgroup or RLIMIT_NPROC.
        let error = #expect(throws: SystemThread.Refused.self) {
            try SystemThread.start(named: "botrix-refused", create: { _, _, _, _ in EAGAIN }) { ran.mark() }
        }
        #expect(error?.description.contains("cannot start the botrix-refused thread") == true)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(ran.value == 0)
    }
}
