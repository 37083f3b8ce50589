import Configuration
public import LMDB

/// Every setting of SPEC.md, read from the environment and then an optional `.env` file
/// (the environment wins). Each has a default that works on a laptop; a value that does
/// not parse is an error naming the variable, never a silent default.
public struct BotrixConfiguration: Sendable, Equatable {
    public enum ServerEnvironment: String, Sendable, CaseIterable { case development, production }
    public enum LogFormat: String, Sendable, CaseIterable { case text, json }

    public var serverHost = "0.0.0.0"
    public var serverPort = 8080
    public var serverEnvironment = ServerEnvironment.development
    public var databasePath = "data/botrix.mdb"
    public var mapSize = 1 << 30
    public var durability = Durability.full
    public var corsAllowedOrigins: [String] = []
    public var logLevel = "info"
    public var logFormat = LogFormat.text
    public var leaseSeconds = 300
    public var maxAttempts = 3
    public var maxJobCount = 100

    public init() {}

    /// Reads the process environment, then `envFile` if it exists.
    public static func load(envFile: String = ".env") async throws -> BotrixConfiguration {
        let file = try await EnvironmentVariablesProvider(environmentFilePath: .init(envFile), allowMissing: true)
        return try load(from: ConfigReader(providers: [EnvironmentVariablesProvider(), file]))
    }

    /// Reads only the given variables (tests, embedding).
    public static func load(environment: [String: String]) throws -> BotrixConfiguration {
        try load(from: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
    }

    static func load(from reader: ConfigReader) throws -> BotrixConfiguration {
        var c = BotrixConfiguration()
        var problems: [String] = []
        func text(_ key: String) -> String? {
            reader.string(forKey: ConfigKey(key)).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap {
                $0.isEmpty ? nil : $0
            }
        }
        func integer(_ key: String, _ variable: String, _ range: ClosedRange<Int>) -> Int? {
            guard let raw = text(key) else { return nil }
            guard let value = Int(raw), range.contains(value) else {
                problems.append("\(variable)=\(raw) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
                return nil
            }
            return value
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ variable: String, _: T.Type) -> T?
        where T.RawValue == String {
            guard let raw = text(key) else { return nil }
            guard let value = T(rawValue: raw.lowercased()) else {
                problems.append(
                    "\(variable)=\(raw) is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return value
        }
        if let v = text("server.host") { c.serverHost = v }
        if let v = integer("server.port", "SERVER_PORT", 0...65535) { c.serverPort = v }
        if let v = choice("server.env", "SERVER_ENV", ServerEnvironment.self) { c.serverEnvironment = v }
        if let v = text("db.path") { c.databasePath = v }
        if let v = integer("lmdb.map.size", "LMDB_MAP_SIZE", (1 << 20)...(1 << 44)) { c.mapSize = v }
        if let v = choice("lmdb.sync", "LMDB_SYNC", Durability.self) { c.durability = v }
        if let v = text("cors.allowed.origins") {
            c.corsAllowedOrigins = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let v = text("log.level") {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            if levels.contains(v.lowercased()) {
                c.logLevel = v.lowercased()
            } else {
                problems.append("LOG_LEVEL=\(v) is not one of \(levels.joined(separator: ", "))")
            }
        }
        if let v = choice("log.format", "LOG_FORMAT", LogFormat.self) { c.logFormat = v }
        if let v = integer("lease.seconds", "LEASE_SECONDS", 1...86_400) { c.leaseSeconds = v }
        if let v = integer("max.attempts", "MAX_ATTEMPTS", 1...100) { c.maxAttempts = v }
        if let v = integer("max.job.count", "MAX_JOB_COUNT", 1...1_000_000) { c.maxJobCount = v }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return c
    }
}

/// One or more settings could not be read; each line names the variable and what it accepts.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "invalid configuration:\n  " + problems.joined(separator: "\n  ") }
}
