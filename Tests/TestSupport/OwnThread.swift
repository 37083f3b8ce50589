import Foundation

/// Runs blocking or long CPU-bound work on a thread of its own and waits for it without
/// holding a thread. `swift test` runs every suite in one process, and Swift's shared pool
/// there has one thread per core (two on a small CI machine) and adds none when they block:
/// a test that verifies a long chain or waits on a child process in place stalls every other
/// suite's async work meanwhile.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
