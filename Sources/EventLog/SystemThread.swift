import Foundation

/// Starts work on a thread of its own and says when the system refuses one.
///
/// Foundation's `Thread.start()` on Linux reports nothing when `pthread_create` fails (a
/// pids cgroup or `RLIMIT_NPROC` at its limit): a caller waiting for that thread's work
/// would wait forever. This starts a detached POSIX thread and throws instead.
public enum SystemThread {
    /// The system refused a thread.
    public struct Refused: Error, CustomStringConvertible {
        /// The `pthread_create` error (EAGAIN: a thread limit).
        public let code: Int32
        public let name: String
        public var description: String {
            "cannot start the \(name) thread: \(String(cString: strerror(code))) (a limit on threads or processes?)"
        }
    }

    /// Runs `body` on a new detached thread named `name` (see ``ThreadName``); throws
    /// ``Refused`` when the system will not start one, in which case `body` never runs.
    public static func start(named name: String, _ body: @escaping @Sendable () -> Void) throws {
        try start(named: name, create: pthread_create, body)
    }

    /// Runs blocking `body` (a replay of the whole log) on a thread of its own named `name`
    /// and returns what it returns, so Swift's cooperative pool stays free meanwhile.
    public static func run<T: Sendable>(named name: String, _ body: @escaping @Sendable () throws -> T) async throws
        -> T
    {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try start(named: name) { continuation.resume(with: Result { try body() }) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// What starts a thread: `pthread_create`'s shape, so the tests can stand in a refusal.
    typealias Create = (
        UnsafeMutablePointer<pthread_t>, UnsafePointer<pthread_attr_t>?,
        @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?, UnsafeMutableRawPointer?
    ) -> Int32

    /// ``start(named:_:)`` through `create` (the tests pass one that refuses, as a full
    /// pids cgroup or `RLIMIT_NPROC` would).
    static func start(named name: String, create: Create, _ body: @escaping @Sendable () -> Void) throws {
        let work = Unmanaged.passRetained(Work(name: name, body: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let code = create(
            &thread, &attributes,
            { context in
                let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
                ThreadName.set(work.name)
                work.body()
                return nil
            }, work)
        guard code == 0 else {
            Unmanaged<Work>.fromOpaque(work).release()
            throw Refused(code: code, name: name)
        }
    }

    /// What the new thread runs, passed to it through `pthread_create`'s context pointer.
    private final class Work: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}
