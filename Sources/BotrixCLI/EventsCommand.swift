import ArgumentParser
import Botrix
import EventLog
import Foundation

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the event log as JSON lines, oldest first.",
        discussion: """
            Each line is one event in the public shape of SPEC.md: seq, stream, version, type,
            recorded_at, data, metadata, prev_hash, hash. Safe while a server writes.

            EXAMPLES
              botrix events                     Every event
              botrix events --after 41 --limit 10
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "Start after this sequence number.") var after: UInt64 = 0
    @Option(help: "Print at most this many events.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let botrix = try await store.openForReading()
        let head = try botrix.log.head().sequence
        if after > head { throw CommandFailure("--after \(after) is beyond the last event (\(head))") }
        var printed = 0
        let output = FileHandle.standardOutput
        try botrix.environment.read { txn in
            var chunk: [UInt8] = []
            try botrix.log.forEach(after: after, in: txn) { event in
                chunk.append(contentsOf: event.publicJSON())
                chunk.append(UInt8(ascii: "\n"))
                printed += 1
                if chunk.count > 1 << 16 {
                    output.write(Data(chunk))
                    chunk.removeAll(keepingCapacity: true)
                }
                return limit.map { printed < $0 } ?? true
            }
            output.write(Data(chunk))
        }
    }
}
