import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real full file system: `botrix serve` on a small tmpfs, 64 concurrent writers,
/// readers and an SSE client at the moment it fills; then space is freed and writes come
/// back without a restart. Tests run as root (as in CI): a test that cannot mount fails.
@Suite("Full disk", .serialized)
struct FullDiskTests {
    @Test("a full disk: 507 to the batch, nothing half written, reads/health/metrics/SSE alive, heals when freed")
    func fullDisk() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let scratch = folder.file("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let small = try SmallDisk(bytes: 6 << 20)
        defer { small.unmount() }
        let disk = small.path
        // Space to give back later.
        try Data(repeating: 0x5A, count: 1 << 20).write(to: URL(fileURLWithPath: "\(disk)/filler"))

        let database = "\(disk)/botrix.mdb"
        let server = try ServerProcess(
            binary: binary, database: database,
            environment: [
                "LMDB_MAP_SIZE": "1048576", "RATE_LIMIT_WRITES_PER_SECOND": "1000000", "RATE_LIMIT_BURST": "1000000",
            ])
        let base = server.baseURL
        let stream = StreamReader(["-s", "-N", "--max-time", "1200", "\(base)/api/events/stream"])
        try stream.start()

        // Fill: rounds of 64 concurrent writers beside 8 concurrent readers and a readiness
        // probe, until the disk is full and several rounds were refused. (A small batch may
        // still fit in pages a failed commit allocated, so some writes keep succeeding.)
        var acknowledged: [String] = []
        var refusals: [CurlBatch.Answer] = []
        var unexpected: [Int] = []
        var notReady: [String] = []
        for _ in 0..<20 where refusals.count < 200 || notReady.isEmpty {
            let writes = (0..<1000).map { _ in
                CurlBatch.Request("POST", "\(base)/api/jobs", body: #"{"count":3,"priority":"high"}"#)
            }
            let reads = (0..<200).map { n in
                CurlBatch.Request(
                    "GET",
                    n % 4 == 0
                        ? "\(base)/health/ready" : n % 2 == 0 ? "\(base)/api/jobs?limit=5" : "\(base)/api/jobs/stats"
                )
            }
            async let readAnswers = Task.detached { try CurlBatch.run(reads, parallel: 8, scratch: scratch) }.value
            let answers = try CurlBatch.run(writes, parallel: 64, scratch: scratch)
            for answer in answers {
                switch answer.status {
                case 201: acknowledged.append(try jobID(answer.body))
                case 507: refusals.append(answer)
                default: unexpected.append(answer.status)
                }
            }
            for (n, answer) in try await readAnswers.enumerated() {
                if n % 4 == 0 && answer.status == 503 {
                    notReady.append(answer.body)
                } else if answer.status != 200 {
                    unexpected.append(answer.status)
                }
            }
        }
        #expect(!refusals.isEmpty, "the disk never filled")
        #expect(unexpected.isEmpty, "answers other than 201/507 (or 200 to reads): \(unexpected.prefix(20))")
        #expect(server.process.isRunning, "the server died: \(server.log())")
        let refused = try #require(refusals.first)
        #expect(refused.head.lowercased().contains("content-type: application/problem+json"), "\(refused.head)")
        #expect(refused.head.lowercased().contains("retry-after:"))
        #expect(refused.body.contains("/problems/insufficient-storage"), "\(refused.body)")
        let ready = try #require(notReady.first, "readiness never said the write path was failing")
        #expect(ready.contains(#""out_of_space":true"#), "\(ready)")
        #expect(ready.contains(#""status":"failing""#), "\(ready)")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/health/live"]).output == "200")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/metrics"]).output == "200")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/api/jobs"]).output == "200")
        #expect(stream.isRunning, "the SSE client was disconnected")
        // Nothing of a failed batch is visible: exactly the acknowledged jobs exist.
        let stats = try curl(["\(base)/api/jobs/stats"]).output
        #expect(stats.contains(#""total":\#(acknowledged.count)"#), "\(acknowledged.count) acknowledged; \(stats)")

        // Free space: writes succeed again by themselves, readiness returns, the stream goes on.
        try FileManager.default.removeItem(atPath: "\(disk)/filler")
        var healed: String?
        for _ in 0..<100 where healed == nil {
            let answer = try curl([
                "-w", "\n%{http_code}", "-X", "POST", "\(base)/api/jobs", "-H", "Content-Type: application/json", "-d",
                #"{"count":1}"#,
            ]).output
            if answer.hasSuffix("\n201") {
                healed = try jobID(String(answer.dropLast(4)))
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let healedID = try #require(healed, "writes did not come back after space was freed")
        acknowledged.append(healedID)
        let readyAgain = Date().addingTimeInterval(60)
        var readyStatus = ""
        while readyStatus != "200" && Date() < readyAgain {
            readyStatus = try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/health/ready"]).output
            if readyStatus != "200" { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(readyStatus == "200", "readiness did not come back after space was freed")
        let deadline = Date().addingTimeInterval(60)
        while !stream.text.contains(healedID) && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(stream.text.contains(healedID), "the SSE client did not get the event written after healing")
        stream.stop()

        #expect(server.stop(timeout: 15))
        let verify = try runProgram(binary, ["verify", "--db", database])
        #expect(verify.status == 0, "\(verify.output)\(verify.error)")
        let events = try runProgram(binary, ["events", "--db", database, "--type", "JobCreated"])
        let created = Set(
            events.output.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: #""stream":"job-"#) else { return nil }
                return String(line[range.upperBound...].prefix(36))
            })
        #expect(created.count == acknowledged.count)
        for id in acknowledged { #expect(created.contains(id), "acknowledged job \(id) is missing") }
    }

    func jobID(_ body: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return try #require(object?["job_id"] as? String, "\(body)")
    }
}
