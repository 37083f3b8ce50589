import Configuration
public import Storage

/// Every setting (README, "Configuration"), read from the environment and then an optional `.env` file
/// (the environment wins). Each has a default that works on a laptop; a value that does
/// not parse is an error naming the variable, never a silent default.
public struct BotrixConfiguration: Sendable, Equatable {
    public enum ServerEnvironment: String, Sendable, CaseIterable { case development, production }
    public enum LogFormat: String, Sendable, CaseIterable { case text, json }

    /// Where to listen; nil means the default: 0.0.0.0, or 127.0.0.1 while the API is open
    /// (development with no API key), so an open API is never reachable from the network
    /// unless SERVER_HOST says so.
    public var serverHost: String?
    public var serverPort = 8080
    public var serverEnvironment = ServerEnvironment.development
    public var databasePath = "data/botrix.mdb"
    public var mapSize = 1 << 30
    /// The map grows (doubling) when full, up to this many bytes; beyond it writes get 507.
    public var maximumMapSize = 1 << 40
    /// Writes that may wait for the writer; beyond it they get 503 with Retry-After.
    public var writerQueueLimit = 10_000
    /// Seconds between clearing stale LMDB reader slots and sampling the reader table.
    public var readerCheckSeconds = 1
    public var durability = Durability.full
    public var corsAllowedOrigins: [String] = []
    public var logLevel = "info"
    public var logFormat = LogFormat.text
    public var leaseSeconds = 300
    public var maxAttempts = 3
    public var maxJobCount = 100
    /// Base64 of the 32-byte master key that wraps account data keys (secret).
    public var masterKey: String?
    /// A file holding the master key in base64, instead of `masterKey`.
    public var masterKeyFile: String?
    /// Writes per second each API key may make, and the burst it may save up.
    public var rateLimitWritesPerSecond = 1000.0
    public var rateLimitBurst = 2000
    /// Concurrent `/api/events/stream` clients per API key.
    public var maxStreamsPerKey = 4
    /// Whether `/metrics` is open (true) or needs the `read` scope.
    public var metricsPublic = true
    /// Reads per second each API key (in open mode, all clients together) may make, and
    /// the burst it may save up.
    public var rateLimitReadsPerSecond = 1000.0
    public var rateLimitReadBurst = 2000
    /// Dashboard pages and live regions per second each key (open mode: all browsers
    /// together) may load, and the burst; sign-in attempts per second per client address,
    /// and their burst. Kept apart from the API's limits (see docs/dashboard.md).
    public var dashboardRequestsPerSecond = 50.0
    public var dashboardRequestBurst = 100.0
    public var dashboardSignInsPerSecond = 2.0
    public var dashboardSignInBurst = 10.0
    /// Seconds an answer to an idempotent request is kept (a retry after that runs again).
    public var idempotencyTTLSeconds = 86_400
    /// A connection that sends nothing for this long is closed: between requests, within a
    /// request head (which must arrive whole within it), or in a stalled body.
    public var idleTimeoutSeconds = 15
    /// A request body must arrive whole within this many seconds (408 otherwise).
    public var bodyTimeoutSeconds = 30
    /// Connections served at once; further ones wait in the kernel's accept queue.
    public var maxConnections = 1024
    /// Entries a read may examine per request before it answers with a `next` cursor.
    public var readScanBudget = 10_000
    /// Claims one API key may have waiting for work (`wait_seconds`) at once; 429 beyond.
    public var maxWaitingClaimsPerKey = 64
    /// Priority aging: a waiting job gains one priority level per this many seconds (0: off).
    public var queueAgingSeconds = 600
    /// Retry backoff: a job failed with retry waits about this many seconds before its
    /// second attempt, doubling for each later one (0: it is claimable at once).
    public var retryBackoffBaseSeconds = 5
    /// The longest a retry's backoff waits.
    public var retryBackoffMaxSeconds = 600

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
        if let v = integer("lmdb.map.size.max", "LMDB_MAP_SIZE_MAX", (1 << 20)...(1 << 44)) { c.maximumMapSize = v }
        if let v = choice("lmdb.sync", "LMDB_SYNC", Durability.self) { c.durability = v }
        if let v = integer("writer.queue.limit", "WRITER_QUEUE_LIMIT", 1...1_000_000) { c.writerQueueLimit = v }
        if let v = integer("reader.check.seconds", "READER_CHECK_SECONDS", 1...3600) { c.readerCheckSeconds = v }
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
        c.masterKey = reader.string(forKey: "botrix.master.key", isSecret: true)
        c.masterKeyFile = text("botrix.master.key.file")
        if let v = integer("rate.limit.writes.per.second", "RATE_LIMIT_WRITES_PER_SECOND", 1...1_000_000) {
            c.rateLimitWritesPerSecond = Double(v)
        }
        if let v = integer("rate.limit.burst", "RATE_LIMIT_BURST", 1...1_000_000) { c.rateLimitBurst = v }
        if let v = integer("max.streams.per.key", "MAX_STREAMS_PER_KEY", 1...10_000) { c.maxStreamsPerKey = v }
        if let v = integer("rate.limit.reads.per.second", "RATE_LIMIT_READS_PER_SECOND", 1...1_000_000) {
            c.rateLimitReadsPerSecond = Double(v)
        }
        if let v = integer("rate.limit.read.burst", "RATE_LIMIT_READ_BURST", 1...1_000_000) { c.rateLimitReadBurst = v }
        if let v = integer("dashboard.requests.per.second", "DASHBOARD_REQUESTS_PER_SECOND", 1...1_000_000) {
            c.dashboardRequestsPerSecond = Double(v)
            c.dashboardRequestBurst = Double(2 * v)
        }
        if let v = integer("dashboard.sign.ins.per.second", "DASHBOARD_SIGN_INS_PER_SECOND", 1...1000) {
            c.dashboardSignInsPerSecond = Double(v)
            c.dashboardSignInBurst = Double(5 * v)
        }
        if let v = integer("idempotency.ttl.seconds", "IDEMPOTENCY_TTL_SECONDS", 60...(90 * 86_400)) {
            c.idempotencyTTLSeconds = v
        }
        if let v = integer("idle.timeout.seconds", "IDLE_TIMEOUT_SECONDS", 1...3600) { c.idleTimeoutSeconds = v }
        if let v = integer("body.timeout.seconds", "BODY_TIMEOUT_SECONDS", 1...3600) { c.bodyTimeoutSeconds = v }
        if let v = integer("max.connections", "MAX_CONNECTIONS", 1...1_000_000) { c.maxConnections = v }
        if let v = integer("read.scan.budget", "READ_SCAN_BUDGET", 100...10_000_000) { c.readScanBudget = v }
        if let v = integer("queue.aging.seconds", "QUEUE_AGING_SECONDS", 0...31_536_000) { c.queueAgingSeconds = v }
        if let v = integer("retry.backoff.base.seconds", "RETRY_BACKOFF_BASE_SECONDS", 0...86_400) {
            c.retryBackoffBaseSeconds = v
        }
        if let v = integer("retry.backoff.max.seconds", "RETRY_BACKOFF_MAX_SECONDS", 1...604_800) {
            c.retryBackoffMaxSeconds = v
        }
        if let v = integer("max.waiting.claims.per.key", "MAX_WAITING_CLAIMS_PER_KEY", 1...100_000) {
            c.maxWaitingClaimsPerKey = v
        }
        if let v = text("metrics.public") {
            if ["true", "false"].contains(v.lowercased()) {
                c.metricsPublic = v.lowercased() == "true"
            } else {
                problems.append("METRICS_PUBLIC=\(v) is not true or false")
            }
        }
        if c.maximumMapSize < c.mapSize {
            problems.append(
                "LMDB_MAP_SIZE_MAX=\(c.maximumMapSize) is below LMDB_MAP_SIZE=\(c.mapSize); the map can only grow")
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return c
    }
}

/// One or more settings could not be read; each line names the variable and what it accepts.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "invalid configuration:\n  " + problems.joined(separator: "\n  ") }
}
