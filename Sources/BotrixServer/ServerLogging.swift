import Foundation
public import Logging

/// Sets up swift-log once per process: text lines for people, JSON lines for collectors.
public enum ServerLogging {
    /// Bootstraps the logging system from LOG_LEVEL and LOG_FORMAT and returns the server logger.
    public static func bootstrap(_ configuration: BotrixConfiguration) -> Logger {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "botrix")
        logger.logLevel = level
        return logger
    }
}

/// One JSON object per line on standard error, keys sorted, so log shippers can parse it.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String: String] = [
            "label": label, "level": event.level.rawValue, "message": "\(event.message)",
            "time": ISO8601DateFormatter().string(from: Date()),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = "\(value)"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard var line = try? encoder.encode(fields) else { return }
        line.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(line)
    }
}
