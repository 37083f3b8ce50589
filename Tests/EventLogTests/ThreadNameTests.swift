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
        let name: String = try await withCheckedThrowingContinuation { continuation in
            do {
                try SystemThread.start(named: "botrix-started") { continuation.resume(returning: ThreadName.current) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
        #expect(name == "botrix-started")
    }

    @Test("a thread the system cannot start throws, and its work never runs")
    func refused() throws {
        let ran = Ran()
        // A stack of 64 TiB cannot be mapped: pthread_create fails as under a thread limit.
        let error = #expect(throws: SystemThread.Refused.self) {
            try SystemThread.start(named: "botrix-refused", stackBytes: 1 << 46) { ran.mark() }
        }
        #expect(error?.description.contains("cannot start the botrix-refused thread") == true)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(ran.value == 0)
    }
}
