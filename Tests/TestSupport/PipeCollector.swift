public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a pipe on a thread of its own as data arrives, into a buffer tests look at while
/// the writer runs: a child whose pipe nobody empties blocks once the pipe is full, and
/// `FileHandle` reads may wait for more than has arrived.
public final class PipeCollector: Sendable {
    private let data = Mutex(Data())
    private let done = DispatchSemaphore(value: 0)

    /// Starts reading `pipe` until its writers close it.
    public init(_ pipe: Pipe) {
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count <= 0 { break }
                data.withLock { $0.append(contentsOf: buffer[0..<count]) }
            }
            done.signal()
        }.start()
    }

    /// Everything read so far, as UTF-8 text.
    public var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Waits up to `seconds` for the writers to close the pipe; true if they did.
    @discardableResult
    public func waitForEnd(seconds: Double) -> Bool {
        done.wait(timeout: .now() + seconds) == .success
    }
}
