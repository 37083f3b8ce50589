import EventLog
import Foundation
import LMDB
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
        writer = GroupCommitWriter(log: log, clock: clock ?? GroupCommitWriter.wallClock)
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
