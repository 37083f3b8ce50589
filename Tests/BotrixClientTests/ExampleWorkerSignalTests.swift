import BotrixClient
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM to the built `botrix-example-worker` while it works on a job.
@Suite("Swift client: example worker and signals, live", .serialized)
struct ExampleWorkerSignalTests {
    @Test("SIGTERM mid-job: exit 0, the job released, every account it reported is on the server")
    func sigtermMidJob() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let example = try #require(builtExecutable("botrix-example-worker"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("signal.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        // 100 accounts (the most a job may ask) at 2 s each: minutes of work, so the signal
        // always comes mid-job.
        let created = try await client.createJob(count: 100)
        let worker = try ExampleWorkerProcess(
            binary: example,
            environment: [
                "BOTRIX_URL": server.baseURL, "WORKER_ID": "w-sigterm", "BOTRIX_WORK_DELAY_MS": "2000",
                "BOTRIX_LEASE_SECONDS": String(patientLease), "BOTRIX_WAIT_SECONDS": "2",
            ])

        let working = await eventually(patience) {
            ((try? await accounts(of: created.jobID, client).count) ?? 0) >= 1
        }
        try #require(working, "the example worker recorded nothing: \(worker.output)")
        kill(worker.process.processIdentifier, SIGTERM)
        let status = await worker.waitForExit(seconds: patience)
        #expect(status == 0, "exit \(String(describing: status)); output:\n\(worker.output)")

        // Its one line for the job: job=<id> attempt=<n> outcome=<word> accounts=<n> emails=<a,b,…>
        let line = try #require(
            worker.output.split(separator: "\n").first(where: { $0.hasPrefix("job=\(created.jobID) ") }),
            "no line for the job in:\n\(worker.output)")
        let fields = Dictionary(
            line.split(separator: " ").compactMap { part -> (String, String)? in
                guard let equals = part.firstIndex(of: "=") else { return nil }
                return (String(part[..<equals]), String(part[part.index(after: equals)...]))
            }, uniquingKeysWith: { _, last in last })
        #expect(fields["outcome"] == "released", "\(line)")
        let reported = Set((fields["emails"] ?? "").split(separator: ",").map { String($0) })
        let onServer = Set(try await accounts(of: created.jobID, client).map(\.email))
        #expect(!reported.isEmpty)
        #expect(reported.isSubset(of: onServer), "reported but missing: \(reported.subtracting(onServer))")
        #expect(reported == onServer, "the server has accounts the worker never reported")
        let job = try await client.job(created.jobID)
        #expect(job.status == .pending, "the unfinished job should be released")
        #expect(job.accountsRecorded == onServer.count)
        let types = try await client.events(ofJob: created.jobID, limit: 1000).data.map(\.type)
        #expect(types.contains("JobReleased"), "\(types)")
        #expect(!types.contains("JobFailed"), "\(types)")
        #expect(server.stop())
    }

    @Test("SIGINT while idle in a long poll: exit 0 once the poll ends")
    func sigintWhileIdle() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let example = try #require(builtExecutable("botrix-example-worker"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("idle.mdb"))
        let worker = try ExampleWorkerProcess(
            binary: example,
            environment: ["BOTRIX_URL": server.baseURL, "WORKER_ID": "w-idle", "BOTRIX_WAIT_SECONDS": "2"])
        let started = await eventually(patience) { worker.output.contains("botrix-example-worker w-idle on") }
        try #require(started, "the example worker did not start: \(worker.output)")
        kill(worker.process.processIdentifier, SIGINT)
        let status = await worker.waitForExit(seconds: patience)
        #expect(status == 0, "exit \(String(describing: status)); output:\n\(worker.output)")
        #expect(worker.output.contains("stopped after 0 job(s)"), "\(worker.output)")
        #expect(server.stop())
    }
}
