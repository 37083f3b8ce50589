import EventLog
import Foundation
import Testing

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
