import Dispatch
import EventLog
import Foundation
import LMDB
import Storage
import TestSupport

/// A log on a fresh file with a writer, for one test.
struct LogFixture {
    let folder: TemporaryFolder
    let environment: Environment
    let log: EventLog
    let writer: GroupCommitWriter

    init(mapSize: Int = 1 << 26, maximumRecordBytes: Int = 1 << 20, clock: (@Sendable () -> Int64)? = nil) throws {
        folder = TemporaryFolder()
        environment = try folder.environment(mapSize: mapSize)
        log = try EventLog(environment: environment, limits: .init(maximumRecordBytes: maximumRecordBytes))
        writer = try GroupCommitWriter(log: log, clock: clock ?? GroupCommitWriter.wallClock)
    }
}

func event(_ type: String = "Thing", _ fields: [String: Int] = ["n": 1]) -> ProposedEvent {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return ProposedEvent(type: type, data: Array(try! encoder.encode(fields)), metadata: ["actor": "test"])
}

func field(_ event: RecordedEvent, _ name: String) -> Int? {
    (try? JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any])?[name] as? Int
}

/// Holds the writer inside a batch until released, so operations queued meanwhile are
/// known to share the next batch.
final class WriterGate: @unchecked Sendable {
    private let started = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)
    private var task: Task<Void, any Error>?

    /// Starts a batch that blocks the writer thread; returns once it is running.
    func close(_ writer: GroupCommitWriter) async {
        task = Task {
            try await writer.perform { [self] _ in
                started.signal()
                release.wait()
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.started.wait()
                continuation.resume()
            }
        }
    }

    /// Waits until `count` operations are queued behind the gate.
    func waitQueued(_ writer: GroupCommitWriter, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while writer.queuedOperations < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits until `count` operations are queued behind the gate, then lets the writer go.
    func open(_ writer: GroupCommitWriter, after count: Int) async throws {
        try await waitQueued(writer, count)
        release.signal()
        try await task?.value
    }
}
