import BotrixServer
import LMDB
import Storage
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test("with nothing set every default is the documented one")
    func defaults() throws {
        let c = try BotrixConfiguration.load(environment: [:])
        // No host set: 0.0.0.0 with API keys, 127.0.0.1 while the API is open (decided at start).
        #expect(c.serverHost == nil && c.serverPort == 8080 && c.serverEnvironment == .development)
        #expect(c.idempotencyTTLSeconds == 86_400 && c.idleTimeoutSeconds == 15 && c.bodyTimeoutSeconds == 30)
        #expect(c.maxConnections == 1024 && c.readScanBudget == 10_000 && c.rateLimitReadsPerSecond == 1000)
        #expect(c.databasePath == "data/botrix.mdb" && c.durability == .full && c.logFormat == .text)
        #expect(c.leaseSeconds == 300 && c.maxAttempts == 3 && c.maxJobCount == 100)
    }

    @Test("every variable is read from its documented name (README, .env.example)")
    func variables() throws {
        let c = try BotrixConfiguration.load(environment: [
            "SERVER_HOST": "127.0.0.1", "SERVER_PORT": "9000", "SERVER_ENV": "production", "DB_PATH": "/tmp/x.mdb",
            "LMDB_MAP_SIZE": "2097152", "LMDB_SYNC": "nosync",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json", "LEASE_SECONDS": "60", "MAX_ATTEMPTS": "5",
            "MAX_JOB_COUNT": "500",
        ])
        #expect(c.serverHost == "127.0.0.1" && c.serverPort == 9000 && c.serverEnvironment == .production)
        #expect(c.databasePath == "/tmp/x.mdb" && c.mapSize == 2_097_152 && c.durability == .nosync)
        #expect(c.corsAllowedOrigins == ["https://a.example", "https://b.example"])
        #expect(c.logLevel == "debug" && c.logFormat == .json)
        #expect(c.leaseSeconds == 60 && c.maxAttempts == 5 && c.maxJobCount == 500)
    }

    @Test("bad values are all reported, each naming its variable")
    func badValues() {
        #expect {
            _ = try BotrixConfiguration.load(environment: [
                "SERVER_PORT": "eighty", "LMDB_SYNC": "sometimes", "MAX_ATTEMPTS": "0",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("SERVER_PORT=eighty") && text.contains("LMDB_SYNC=sometimes")
                && text.contains("full, nometasync, nosync") && text.contains("MAX_ATTEMPTS=0")
        }
    }
}
