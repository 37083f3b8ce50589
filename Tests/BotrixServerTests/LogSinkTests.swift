import EventLog
import Foundation
import Glibc
import Synchronization
import Testing

@testable import BotrixServer

/// The log's writer thread: lines arrive whole and in order, a flush means written, a reader
/// that stops costs dropped lines (counted and said), never a blocked caller.
@Suite("Log sink")
struct LogSinkTests {
    /// A pipe whose reading end the test drains; both ends are closed at the end.
    final class Pipe: Sendable {
        let read: Int32
        let write: Int32
        /// `size`: the pipe's capacity in bytes (Linux rounds it up to a page), or the default.
        init(size: Int32? = nil) throws {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw POSIXError(.EMFILE) }
            (read, write) = (ends[0], ends[1])
            // Non-blocking both ways: the test reads what is there, and the sink meets a
            // full pipe as it would meet a stalled journal.
            for end in [read, write] { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
            if let size { _ = fcntl(write, 1031 /* F_SETPIPE_SZ */, size) }
        }
        /// Everything the pipe holds now.
        func drain() -> [UInt8] {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress!, $0.count) }
                guard count > 0 else { return out }
                out += buffer[0..<count]
            }
        }
        deinit {
            close(read)
            close(write)
        }
    }

    /// What the test read from the pipe so far.
    final class Collected: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    static func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("lines from many threads arrive whole, each thread's in its order, none lost; flush means written")
    func wholeAndOrdered() async throws {
        let pipe = try Pipe()
        defer { withExtendedLifetime(pipe) {} }  // open until the sink is closed
        let sink = LogSink(descriptor: pipe.write)
        defer { sink.close() }
        let collected = Collected()
        let threads = 4
        let perThread = 2_000
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<threads {
                group.addTask {
                    for n in 0..<perThread {
                        sink.write(Array("t\(thread) n\(n) \(String(repeating: "x", count: n % 300))\n".utf8))
                        // Drain as we go: the pipe holds 64 KiB, the lines about 1.3 MB.
                        if n % 64 == 0 { collected.bytes.withLock { $0 += pipe.drain() } }
                    }
                }
            }
        }
        // Drain while the rest is written: more than the pipe holds may still wait.
        var written = false
        for _ in 0..<500 where !written {
            collected.bytes.withLock { $0 += pipe.drain() }
            written = sink.flush(timeout: .milliseconds(20))
        }
        collected.bytes.withLock { $0 += pipe.drain() }
        #expect(written)
        let lines = Self.lines(collected.bytes.withLock { $0 })
        #expect(lines.count == threads * perThread)
        var next = [Int](repeating: 0, count: threads)
        var broken: [String] = []
        for line in lines {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, let thread = Int(parts[0].dropFirst()), let n = Int(parts[1].dropFirst()),
                thread < threads, n == next[thread], parts[2].count == n % 300
            else {
                broken.append(line)
                continue
            }
            next[thread] += 1
        }
        #expect(broken.isEmpty, "first: \(broken.prefix(2))")
        #expect(next == [Int](repeating: perThread, count: threads))
    }

    @Test("a reader that stops holds only the sink's thread: lines past the buffer are dropped, then counted")
    func stalledReader() throws {
        // A pipe of one page, so the sink's second batch already finds it full; 8 KiB may wait.
        let pipe = try Pipe(size: 4096)
        defer { withExtendedLifetime(pipe) {} }  // open until the sink is closed
        let sink = LogSink(descriptor: pipe.write, capacity: 8 << 10)
        defer { sink.close() }
        let line = Array((String(repeating: "y", count: 99) + "\n").utf8)
        let sent = 5_000  // 500 KB: far more than the pipe and the buffer hold
        for _ in 0..<sent { sink.write(line) }  // returns: nothing here waits for the reader
        // Now read: the sink's thread gets on, and says how many lines it dropped.
        var received: [UInt8] = []
        var written = false
        for _ in 0..<500 where !written {
            received += pipe.drain()
            written = sink.flush(timeout: .milliseconds(20))
        }
        received += pipe.drain()
        #expect(written)
        let lines = Self.lines(received)
        let kept = lines.filter { $0 == String(repeating: "y", count: 99) }.count
        let notices = lines.filter { $0.contains(" dropped: ") }
        let dropped = notices.compactMap { Int($0.split(separator: " ")[3]) }.reduce(0, +)
        let notice = try #require(notices.first)
        #expect(dropped > 0)
        #expect(kept + dropped == sent, "kept \(kept), dropped \(dropped)")
        #expect(notice.contains("warning botrix:"))
    }

    @Test("lines a failed write lost are counted and said, with the reason, once the descriptor takes bytes again")
    func failedWrites() throws {
        let pipe = try Pipe()
        defer { withExtendedLifetime(pipe) {} }  // open until the sink is closed
        // The sink's descriptor first leads to /dev/full (every write fails: ENOSPC), then to the pipe.
        let descriptor = open("/dev/full", O_WRONLY)
        try #require(descriptor >= 0)
        defer { Glibc.close(descriptor) }
        let sink = LogSink(descriptor: descriptor)
        defer { sink.close() }
        // Two batches: the second carries the first's notice, which fails too and is not a line.
        for n in 0..<10 { sink.write(Array("lost \(n)\n".utf8)) }
        #expect(sink.flush())
        for n in 10..<30 { sink.write(Array("lost \(n)\n".utf8)) }
        #expect(sink.flush())
        try #require(dup2(pipe.write, descriptor) == descriptor)
        sink.write(Array("kept\n".utf8))
        #expect(sink.flush())
        let lines = Self.lines(pipe.drain())
        #expect(lines.count == 2, "\(lines)")
        #expect(
            lines.first?.hasSuffix(
                "warning botrix: 30 log lines lost: writing standard error failed: No space left on device") == true,
            "\(lines)")
        #expect(lines.last == "kept")
    }

    @Test("a line longer than the whole buffer is dropped, counted and said at once")
    func lineLongerThanBuffer() throws {
        let pipe = try Pipe()
        defer { withExtendedLifetime(pipe) {} }  // open until the sink is closed
        let sink = LogSink(descriptor: pipe.write, capacity: 64)
        defer { sink.close() }
        sink.write(Array("first\n".utf8))
        #expect(sink.flush())  // the thread now sleeps, waiting for lines
        sink.write(Array((String(repeating: "z", count: 100) + "\n").utf8))
        // The drop alone wakes the thread: the flush does not wait out its timeout.
        #expect(sink.flush(timeout: .seconds(5)))
        let lines = Self.lines(pipe.drain())
        #expect(
            lines.count == 2 && lines[0] == "first"
                && lines[1].hasSuffix("warning botrix: 1 log line dropped: standard error was not taking them"),
            "\(lines)")
    }

    @Test("when the system refuses the thread, lines are written directly")
    func refusedThread() throws {
        let pipe = try Pipe()
        defer { withExtendedLifetime(pipe) {} }  // open until the sink is closed
        let sink = LogSink(descriptor: pipe.write) { _, _ in throw POSIXError(.EAGAIN) }
        sink.write(Array("direct\n".utf8))
        // No flush: a direct write is in the pipe when write returns.
        #expect(Self.lines(pipe.drain()) == ["direct"])
    }

    @Test("close writes what waits before its thread ends")
    func closeWrites() throws {
        let pipe = try Pipe()
        defer { withExtendedLifetime(pipe) {} }  // open until the sink is closed
        // A long pause: lines handed in after the first wait in the buffer when close comes.
        let sink = LogSink(descriptor: pipe.write, pause: .milliseconds(200))
        for n in 0..<50 { sink.write(Array("line \(n)\n".utf8)) }
        sink.close()
        #expect(Self.lines(pipe.drain()) == (0..<50).map { "line \($0)" })
    }
}
