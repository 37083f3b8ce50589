import ArgumentParser
import Botrix
import EventLog
import Foundation
import TerminalOutput

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the event log, oldest first, as JSON lines or a table.",
        discussion: """
            Each JSON line is one event in the public shape of schemas/event.schema.json:
            seq, stream, version, type, recorded_at, data, metadata, prev_hash, hash.
            Filters combine. With --follow it keeps printing events as a server appends
            them (from another process too) until interrupted. Safe while `botrix serve`
            runs on the same file.

            EXAMPLES
              botrix events                                   every event
              botrix events --after 41 --limit 10             ten events from sequence 42
              botrix events --since 2026-01-02T00:00:00Z --type JobFailed --format table
              botrix events --stream job-0f8e6a52-… --follow  one job, then live
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp("Start after this sequence number.", valueName: "seq")) var after: UInt64 = 0
    @Option(help: ArgumentHelp("Only events recorded at or after this RFC 3339 time.", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Only events recorded at or before this RFC 3339 time.", valueName: "time"))
    var until: String?
    @Option(help: ArgumentHelp("Only this stream (job-<uuid> or account-<id>).", valueName: "name")) var stream: String?
    @Option(help: ArgumentHelp("Only this event type; repeat for several.", valueName: "type")) var type: [String] = []
    @Option(help: "Print at most this many events.") var limit: Int?
    @Flag(help: "Keep printing new events as they are appended.") var follow = false
    @Option(help: "jsonl (default) or table.") var format: OutputFormat = .jsonl

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let since, Timestamp.parse(since) == nil {
            throw ValidationError("--since \(since) is not an RFC 3339 time such as 2026-01-02T03:04:05Z")
        }
        if let until, Timestamp.parse(until) == nil {
            throw ValidationError("--until \(until) is not an RFC 3339 time such as 2026-01-02T03:04:05Z")
        }
        for name in type where !DomainEvent.allTypes.contains(name) {
            throw ValidationError("--type \(name) is not one of \(DomainEvent.allTypes.joined(separator: ", "))")
        }
        if format == .json { throw ValidationError("--format must be jsonl or table") }
        if let stream { try StreamName.validate(stream) }
    }

    func run() async throws {
        let botrix = try await store.openForReading()
        let head = try botrix.head().sequence
        if after > head && !follow { throw CommandFailure("--after \(after) is beyond the last event (\(head))") }
        let sinceMs = since.flatMap(Timestamp.parse)
        let untilMs = until.flatMap(Timestamp.parse)
        var start = after
        if let sinceMs {
            start = max(start, try botrix.firstSequence(recordedAtOrAfter: sinceMs) - 1)
        }
        let types = Set(type)
        let output = EventPrinter(format: format)
        var printed = 0
        func matches(_ event: RecordedEvent) -> Bool {
            (stream == nil || event.stream == stream) && (types.isEmpty || types.contains(event.type))
        }
        // The backlog page by page: each page is read in a short read transaction and
        // printed after it ended, so a slow or vanished reader (a pager, `| head`) never
        // holds a snapshot open and pins pages. Then (with --follow) live events.
        var position = start
        var reachedEnd = false
        let pageSize = 1024
        while !reachedEnd, limit.map({ printed < $0 }) ?? true {
            let page = try botrix.read(after: position, limit: pageSize)
            guard let last = page.last else { break }
            for event in page {
                if let untilMs, event.recordedAt > untilMs {
                    reachedEnd = true
                    break
                }
                position = event.sequence
                if matches(event) {
                    output.print(event)
                    printed += 1
                    if let limit, printed >= limit { break }
                }
            }
            if page.count < pageSize || last.sequence >= head { break }
        }
        output.flush()
        guard follow, !reachedEnd, limit.map({ printed < $0 }) ?? true else { return }
        for try await event in botrix.follow(after: position) {
            if let untilMs, event.recordedAt > untilMs { break }
            guard matches(event) else { continue }
            output.print(event)
            output.flush()
            printed += 1
            if let limit, printed >= limit { break }
        }
    }
}

/// Writes events as JSON lines or table rows, buffered.
final class EventPrinter {
    let format: OutputFormat
    private var buffer: [UInt8] = []
    private var headerDone = false

    init(format: OutputFormat) { self.format = format }

    func print(_ event: RecordedEvent) {
        switch format {
        case .table:
            if !headerDone {
                buffer += Array(
                    "SEQ      RECORDED_AT               TYPE             STREAM                                       V  DATA\n"
                        .utf8)
                headerDone = true
            }
            let data = String(decoding: event.data, as: UTF8.self)
            let line = [
                pad(String(event.sequence), 8), pad(Timestamp.rfc3339(milliseconds: event.recordedAt), 25),
                pad(event.type, 16), pad(event.stream, 44), pad(String(event.version), 2),
                data.count > 60 ? String(data.prefix(57)) + "..." : data,
            ].joined(separator: " ")
            buffer += Array(line.utf8) + [10]
        case .jsonl, .json:
            buffer += event.publicJSON() + [10]
        }
        if buffer.count > 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        StandardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
