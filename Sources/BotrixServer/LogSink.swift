import EventLog
import Foundation
import Glibc

/// Log lines for standard error, written by one thread of their own (`botrix-log`) in
/// batches, so no request thread makes a system call — or waits on a slow reader — to log.
///
/// Why: the access log writes a line per request. Written by the request's own thread, each
/// line was a `write(2)`; into a pipe (systemd, a container runtime) each one also woke the
/// reader: under `wrk -c64` the server answered `GET /api/jobs/{id}` 16.0–16.9k times a
/// second into a pipe against 17.3–18.7k into a file (README, Performance). Here a line is
/// copied into a buffer under a lock; the thread writes what has gathered, then pauses
/// `pause` so the next batch gathers many lines, not one.
///
/// - Order: lines keep the order in which they were handed in, and each arrives whole (this
///   thread is the only writer of the descriptor).
/// - Bounded: at most `capacity` bytes wait. A reader that stopped reading holds only this
///   thread; further lines are dropped and counted, and a line saying how many follows once
///   the reader takes bytes again. Lines lost to a failed write (a full disk, a reader gone)
///   are counted too, and said in the next batch the descriptor takes.
/// - Exit: ``flush(timeout:)`` waits until every line handed in is written; the first line
///   registers it to run at `exit`. A process killed outright (SIGKILL, a crash) loses what
///   waits: the lines of its last `pause`, or up to `capacity` behind a reader that is slow.
/// - When the system refuses the thread, lines are written directly, as before.
final class LogSink: @unchecked Sendable {
    /// The process's standard error, as both log handlers use it.
    static let standardError = LogSink(descriptor: 2)

    private let descriptor: Int32
    private let capacity: Int
    private let pause: Duration
    private let startThread: (String, @escaping @Sendable () -> Void) throws -> Void
    /// Guards every `var` below.
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    /// True from the thread's taking a batch until it finds nothing more to write.
    private var busy = false
    private var state = State.idle
    private var dropped = 0
    private var closing = false
    /// Only the thread touches these: lines a failed write lost, and why.
    private var failed = 0
    private var failure: Int32 = 0
    private var torn = false

    private enum State { case idle, running, direct }

    /// Lines handed in that the thread has not yet written (read with the lock held).
    private var unwritten: Bool { state == .running && (busy || !pending.isEmpty || dropped > 0) }

    /// `capacity` bytes may wait; `pause` is the time batches gather over. `startThread`
    /// stands for ``SystemThread/start(named:_:)`` (tests pass one that refuses).
    init(
        descriptor: Int32, capacity: Int = 4 << 20, pause: Duration = .milliseconds(1),
        startThread: @escaping (String, @escaping @Sendable () -> Void) throws -> Void = SystemThread.start(named:_:)
    ) {
        self.descriptor = descriptor
        self.capacity = capacity
        self.pause = pause
        self.startThread = startThread
    }

    /// Hands in one whole line (newline included). While the thread runs, never waits on
    /// the descriptor (only when the system refused the thread are lines written here).
    func write(_ line: [UInt8]) {
        condition.lock()
        if state == .idle { start() }
        guard state == .running else {
            condition.unlock()
            Self.writeDirect(descriptor, line)
            return
        }
        if pending.count + line.count <= capacity {
            pending.append(contentsOf: line)
        } else {
            dropped += 1
        }
        if !busy { condition.broadcast() }
        condition.unlock()
    }

    /// Waits until every line handed in so far has been written, or `timeout` has passed;
    /// false when lines still wait.
    @discardableResult
    func flush(timeout: Duration = .seconds(2)) -> Bool {
        let deadline = Date().addingTimeInterval(timeout / .seconds(1))
        condition.lock()
        while unwritten {
            guard condition.wait(until: deadline) else { break }
        }
        let done = !unwritten
        condition.unlock()
        return done
    }

    /// Writes what waits (for at most `timeout`, should the reader have stopped), then ends
    /// the thread; later lines are written directly. For sinks that do not live as long as
    /// the process (tests).
    func close(timeout: Duration = .seconds(10)) {
        let deadline = Date().addingTimeInterval(timeout / .seconds(1))
        condition.lock()
        closing = true
        condition.broadcast()
        while unwritten {
            guard condition.wait(until: deadline) else { break }
        }
        // Only once the thread is done: writing directly beside it would interleave.
        if !unwritten { state = .direct }
        condition.unlock()
    }

    /// Starts the thread; called with the lock held, once.
    private func start() {
        do {
            try startThread("botrix-log") { [self] in run() }
            state = .running
            if descriptor == 2 { atexit { LogSink.standardError.flush() } }
        } catch {
            state = .direct
        }
    }

    /// The thread: takes what has gathered, writes it, pauses, and again; sleeps while there
    /// is nothing.
    private func run() {
        var batch: [UInt8] = []
        while true {
            condition.lock()
            while pending.isEmpty && dropped == 0 {
                busy = false
                condition.broadcast()  // a flush waiting for this moment
                if closing {
                    condition.unlock()
                    return
                }
                condition.wait()
            }
            busy = true
            swap(&batch, &pending)
            let lost = dropped
            dropped = 0
            condition.unlock()
            write(batch, dropped: lost)
            // Keep a batch's room for the next, unless a burst made it large.
            if batch.capacity > 256 << 10 { batch = [] } else { batch.removeAll(keepingCapacity: true) }
            Thread.sleep(forTimeInterval: Double(pause / .microseconds(1)) / 1_000_000)
        }
    }

    /// Writes one batch, after the notices it is owed: a newline ending a line a failed
    /// write cut, how many lines failed writes lost, how many the full buffer dropped. When
    /// the notices cannot be written the batch is not tried; its lines count as lost.
    private func write(_ batch: [UInt8], dropped: Int) {
        var notices: [UInt8] = torn ? [UInt8(ascii: "\n")] : []
        if failed > 0 {
            notices += Self.notice(failed, "lost: writing standard error failed: \(String(cString: strerror(failure)))")
        }
        if dropped > 0 { notices += Self.notice(dropped, "dropped: standard error was not taking them") }
        if !notices.isEmpty {
            let (written, error) = Self.writeAll(descriptor, notices)
            if written > 0 { torn = notices[written - 1] != UInt8(ascii: "\n") }
            guard written == notices.count else {
                failure = error
                failed += dropped + Self.lines(in: batch[...])
                return
            }
            failed = 0
        }
        let (written, error) = Self.writeAll(descriptor, batch)
        if written > 0 { torn = batch[written - 1] != UInt8(ascii: "\n") }
        if written < batch.count {
            failure = error
            failed += Self.lines(in: batch[written...])
        }
    }

    /// A warning line: `count` log line(s) `what`.
    static func notice(_ count: Int, _ what: String) -> [UInt8] {
        Array(
            "\(Timestamp.rfc3339(milliseconds: Timestamp.nowMilliseconds())) warning botrix: \(count) log line\(count == 1 ? "" : "s") \(what)\n"
                .utf8)
    }

    /// The whole or cut lines in `bytes`: their newlines.
    static func lines(in bytes: ArraySlice<UInt8>) -> Int {
        bytes.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    }

    /// Writes every byte, waiting for a full pipe as long as it takes (only this thread
    /// waits); gives up on the batch at an error other than an interruption or a full pipe.
    /// Returns the bytes written and, when not all, the error.
    @discardableResult
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> (written: Int, error: Int32) {
        bytes.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EAGAIN {
                    var wait = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&wait, 1, 1000)
                } else if !(written < 0 && errno == EINTR) {
                    return (offset, written < 0 ? errno : EIO)
                }
            }
            return (offset, 0)
        }
    }

    /// One line straight to the descriptor: through ``StandardError/write(_:)`` for standard
    /// error (at most 100 ms of waiting a line); other descriptors (tests') wait as long as
    /// a full pipe takes.
    private static func writeDirect(_ descriptor: Int32, _ line: [UInt8]) {
        if descriptor == 2 { StandardError.write(line) } else { writeAll(descriptor, line) }
    }
}
