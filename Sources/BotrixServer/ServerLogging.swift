import Botrix
import EventLog
import Foundation
import Glibc
import JSONCoding
public import Logging

/// Sets up swift-log once per process: text lines for people, JSON lines for collectors.
public enum ServerLogging {
    /// Bootstraps the logging system from LOG_LEVEL and LOG_FORMAT and returns the server logger.
    public static func bootstrap(_ configuration: BotrixConfiguration) -> Logger {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "botrix")
        logger.logLevel = level
        return logger
    }

    /// Waits (up to 2 s) until every log line handed in so far is written: before a line
    /// written to standard error directly, which must come after them (a command's error).
    public static func flush() {
        LogSink.standardError.flush()
    }
}

/// A log handler that keeps its metadata in a dictionary, as both of ours do: the
/// subscript swift-log requires, written once.
protocol MetadataStoringLogHandler: LogHandler {
    var metadata: Logger.Metadata { get set }
}

extension MetadataStoringLogHandler {
    /// The event's metadata, then the handler's that the event does not override, keys in
    /// byte order: one list, not a merged dictionary (the merge was a quarter of a line's
    /// cost).
    func fields(of event: LogEvent) -> [(key: String, value: Logger.Metadata.Value)] {
        let own = event.metadata ?? [:]
        var fields: [(key: String, value: Logger.Metadata.Value)] = []
        fields.reserveCapacity(own.count + metadata.count)
        for (key, value) in own { fields.append((key, value)) }
        for (key, value) in metadata where own[key] == nil { fields.append((key, value)) }
        fields.sort { JSONText.precedes($0.key, $1.key) }
        return fields
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}

/// One JSON object per line on standard error, keys sorted, so log shippers can parse it.
struct JSONLogHandler: MetadataStoringLogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    /// Builds the line with the project's own JSON writer and clock text: no encoder or
    /// date formatter is made per line.
    func log(event: LogEvent) {
        LogSink.standardError.write(line(for: event, at: Timestamp.nowMilliseconds()))
    }

    /// The line for `event` at `milliseconds` since 1970, newline included: `label`,
    /// `level`, `message` and `time`, then the event's metadata and the handler's, keys in
    /// byte order. A metadata key beats a fixed field of the same name, and the event's
    /// value beats the handler's.
    func line(for event: LogEvent, at milliseconds: Int64) -> [UInt8] {
        // The writer puts the keys in byte order.
        var writer = JSONObjectWriter()
        let fields = fields(of: event)
        for (key, value) in fields { writer.string(key, TextLogHandler.text(value)) }
        let fixed = [
            ("label", label), ("level", event.level.rawValue), ("message", "\(event.message)"),
            ("time", Timestamp.rfc3339(milliseconds: milliseconds)),
        ]
        for (key, value) in fixed where !fields.contains(where: { $0.key == key }) { writer.string(key, value) }
        var line = writer.bytes()
        line.append(UInt8(ascii: "\n"))
        return line
    }
}

/// Whole lines to standard error with one `write(2)` each: how ``LogSink`` writes when the
/// system refuses it a thread. Lines from many threads do not interleave mid-line (a pipe
/// keeps writes of up to 4 KiB whole; longer lines, such as one carrying a path of many
/// kilobytes, may be split) and no stdio lock or buffer sits in between. An interrupted
/// write is retried, and a would-block one waits for the pipe up to 100 ms a line (a reader
/// that stopped must not hold every logging thread, event loops included, for long); after
/// that the rest of the line is dropped.
enum StandardError {
    static func write(_ line: [UInt8]) {
        line.withUnsafeBytes { bytes in
            var offset = 0
            var retries = 0
            var waits = 0
            while offset < bytes.count {
                let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR || errno == EAGAIN, retries < 100 {
                    // A full non-blocking pipe: wait (at most 10 ms a time, ten times a line)
                    // until it takes more.
                    if errno == EAGAIN {
                        guard waits < 10 else { return }
                        waits += 1
                        var wait = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&wait, 1, 10)
                    }
                    retries += 1
                } else {
                    return
                }
            }
        }
    }
}
