import Foundation
import TestSupport
import Testing

/// A bad setting stops `botrix serve` with every bad variable, its value and what it
/// accepts, on lines of their own (the first line alone used to be printed).
@Suite("Configuration errors")
struct ConfigurationErrorTests {
    /// Every variable of `.env.example` that has a domain, with a value outside it and a
    /// word of what the message must say it accepts.
    static let cases: [(variable: String, value: String, accepts: String)] = [
        ("SERVER_PORT", "99999", "0...65535"), ("SERVER_ENV", "staging", "development, production"),
        ("LMDB_MAP_SIZE", "abc", "whole number"), ("LMDB_MAP_SIZE_MAX", "12", "whole number"),
        ("LMDB_SYNC", "bogus", "full, nometasync, nosync"), ("WRITER_QUEUE_LIMIT", "0", "1...1000000"),
        ("READER_CHECK_SECONDS", "-1", "1...3600"), ("LOG_LEVEL", "foo", "trace, debug"),
        ("LOG_FORMAT", "xml", "text, json"), ("LEASE_SECONDS", "abc", "1...86400"),
        ("MAX_ATTEMPTS", "0", "1...100"), ("MAX_JOB_COUNT", "1e3", "1...1000000"),
        ("RATE_LIMIT_WRITES_PER_SECOND", "fast", "whole number"), ("RATE_LIMIT_BURST", "-5", "whole number"),
        ("MAX_STREAMS_PER_KEY", "many", "whole number"), ("METRICS_PUBLIC", "maybe", "true or false"),
        ("BOTRIX_MASTER_KEY", "not-base64!", "base64 of 32 bytes"),
        ("RATE_LIMIT_READS_PER_SECOND", "0", "1...1000000"), ("RATE_LIMIT_READ_BURST", "x", "whole number"),
        ("DASHBOARD_REQUESTS_PER_SECOND", "0", "1...1000000"),
        ("DASHBOARD_SIGN_INS_PER_SECOND", "lots", "whole number"),
        ("IDEMPOTENCY_TTL_SECONDS", "5", "60...7776000"), ("IDLE_TIMEOUT_SECONDS", "0", "1...3600"),
        ("BODY_TIMEOUT_SECONDS", "1.5", "1...3600"), ("MAX_CONNECTIONS", "none", "whole number"),
        ("READ_SCAN_BUDGET", "10", "100...10000000"), ("MAX_WAITING_CLAIMS_PER_KEY", "0", "1...100000"),
        ("QUEUE_AGING_SECONDS", "-1", "0...31536000"), ("RETRY_BACKOFF_BASE_SECONDS", "1d", "0...86400"),
        ("RETRY_BACKOFF_MAX_SECONDS", "0", "1...604800"),
    ]

    @Test("every variable .env.example sets is one the test tries with a bad value")
    func everyVariableCovered() throws {
        let example = try String(contentsOfFile: packageRoot() + "/.env.example", encoding: .utf8)
        let set = example.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }
            .map { String($0.prefix { $0 != "=" }) }
        let free: Set = ["DB_PATH", "CORS_ALLOWED_ORIGINS", "BOTRIX_MASTER_KEY_FILE"]  // any text is accepted
        for variable in set where !free.contains(variable) {
            #expect(Self.cases.contains { $0.variable == variable }, "\(variable) has no bad-value case")
        }
    }

    @Test("each bad variable of .env.example: serve exits 1 naming it, its value and what it accepts")
    func eachVariable() throws {
        let binary = try #require(builtExecutable("botrix"))
        let example = try String(contentsOfFile: packageRoot() + "/.env.example", encoding: .utf8)
        let folder = TemporaryFolder()
        for (variable, value, accepts) in Self.cases {
            #expect(example.contains("\n\(variable)="), "\(variable) is not in .env.example")
            let result = try runProgram(
                "/usr/bin/env",
                [
                    "\(variable)=\(value)", binary, "serve", "--host", "127.0.0.1", "--port", "0", "--db",
                    folder.file("c.mdb"),
                ])
            #expect(result.status == 1, "\(variable)=\(value): exit \(result.status)")
            #expect(result.error.contains(variable), "\(variable): \(result.error)")
            // A secret's value is never echoed; every other bad value is.
            let secret = variable == "BOTRIX_MASTER_KEY"
            #expect(result.error.contains(value) != secret, "\(variable): \(result.error)")
            #expect(result.error.contains(accepts), "\(variable): \(result.error)")
        }
    }

    @Test("several bad variables at once: every one is listed, one per line")
    func allAtOnce() throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let bad = Self.cases.filter { $0.variable != "BOTRIX_MASTER_KEY" && $0.variable != "LMDB_MAP_SIZE_MAX" }
        let result = try runProgram(
            "/usr/bin/env",
            bad.map { "\($0.variable)=\($0.value)" } + [binary, "serve", "--db", folder.file("c.mdb")])
        #expect(result.status == 1)
        let lines = result.error.split(separator: "\n")
        #expect(lines.first == "botrix: invalid configuration:", "\(result.error)")
        for (variable, value, _) in bad {
            #expect(lines.contains { $0.contains("\(variable)=\(value)") }, "\(variable) missing: \(result.error)")
        }
    }

    func packageRoot(file: String = #filePath) -> String {
        var url = URL(fileURLWithPath: file)
        while url.path != "/"
            && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path)
        {
            url.deleteLastPathComponent()
        }
        return url.path
    }
}
