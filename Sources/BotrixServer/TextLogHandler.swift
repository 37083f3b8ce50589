import EventLog
import Foundation
import Logging

/// Text lines for people, one per event on standard error:
///
///     2026-12-06T19:28:10.123Z info botrix: GET /api/jobs/… 200 bytes=460 duration_ms=0.077 …
///
/// It replaces swift-log's `StreamLogHandler`, which cost the access log most of its price
/// (a profile of `GET /api/jobs/{id}` put it at 6% of the server's CPU): that handler asks
/// the C library for local time on every line — which stats `/etc/localtime` each time when
/// `TZ` is unset — and builds its metadata text through several dictionaries and strings.
/// Here the time is UTC from integers, metadata keys are sorted once per line, and the line
/// is handed whole to ``LogSink``, whose thread writes lines in batches. Line breaks inside
/// a message or value are escaped, so no value can forge a line of its own.
struct TextLogHandler: MetadataStoringLogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    func log(event: LogEvent) {
        LogSink.standardError.write(line(for: event, at: Timestamp.nowMilliseconds()))
    }

    /// The line for `event` at `milliseconds` since 1970, newline included.
    func line(for event: LogEvent, at milliseconds: Int64) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(contentsOf: Timestamp.rfc3339(milliseconds: milliseconds).utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: label.utf8)
        line.append(contentsOf: ": ".utf8)
        Self.appendEscaped("\(event.message)", to: &line)
        for (key, value) in fields(of: event) {
            line.append(UInt8(ascii: " "))
            Self.appendEscaped(key, to: &line)
            line.append(UInt8(ascii: "="))
            Self.appendEscaped(Self.text(value), to: &line)
        }
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// A metadata value as text: strings as they are, the rest by their description.
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        default: return value.description
        }
    }

    /// Appends `text`, with carriage returns and line feeds written as `\r` and `\n`.
    /// Text without either (nearly all) is copied whole.
    static func appendEscaped(_ text: String, to line: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            guard utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
                line.append(contentsOf: utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\n"): line.append(contentsOf: "\\n".utf8)
                case UInt8(ascii: "\r"): line.append(contentsOf: "\\r".utf8)
                default: line.append(byte)
                }
            }
        }
    }
}
