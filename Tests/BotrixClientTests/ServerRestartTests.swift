import BotrixClient
import Foundation
import TestSupport
import Testing

/// The server stops and starts again (same port, same file) while a Worker is mid-job.
@Suite("Swift client: server restart mid-job, live", .serialized)
struct ServerRestartTests {
    @Test("the worker rides out a restart: the job completes with every account once")
    func restartBetweenTwoRecords() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let database = folder.file("restart.mdb")
        let first = try ServerProcess(binary: binary, database: database)
        let port = first.port
        let client = BotrixClient(baseURL: first.baseURL, requestTimeout: .seconds(10))
        let created = try await client.createJob(count: 3)
        let made = (0..<3).map { _ in fakeAccount("rst") }
        let firstRecorded = Latch()
        let serverDown = Latch()
        let contexts = Box<JobContext>()
        let reports = Box<JobReport>()
        // A lease that outlives the restart, so the attempt's token is still valid after it.
        let worker = Worker(
            client: client, workerID: "w-restart", leaseSeconds: patientLease, waitSeconds: 2,
            onJobFinished: { reports.append($0) })

        let run = Task {
            try await worker.run(maxJobs: 1) { context in
                contexts.append(context)
                try await context.record(made[0])
                firstRecorded.open()
                guard await serverDown.wait(seconds: patience) else { throw TimedOut(what: "the server to stop") }
                // The server is down now: these calls keep retrying until it is back.
                try await context.record(made[1])
                try await context.record(made[2])
            }
        }
        #expect(await firstRecorded.wait(seconds: patience), "the first account was not recorded")
        #expect(first.stop(timeout: 20), "the server did not stop: \(first.log())")
        serverDown.open()
        try await Task.sleep(for: .milliseconds(1500))  // the worker meets a closed port for a while
        let second: ServerOnPort
        do {
            second = try ServerOnPort(binary: binary, database: database, port: port, folder: folder.path)
        } catch {
            run.cancel()
            throw error
        }
        let handled = try await bounded(patience, "the worker to finish after the restart") {
            try await valueOf(run)
        }

        #expect(handled == 1)
        let report = try #require(reports.all.first)
        let stored = try await accounts(of: created.jobID, client)
        let emails = stored.map(\.email)
        #expect(emails.count == Set(emails).count, "an account was recorded twice: \(emails)")
        #expect(Set(report.accounts.map(\.email)).isSubset(of: Set(emails)), "a reported account is missing")
        let job = try await client.job(created.jobID)
        // The documented behaviour with a lease that outlives the restart: the job goes on.
        #expect(report.outcome == .completed, "outcome \(report.outcome); server log: \(second.log())")
        #expect(job.status == .completed)
        #expect(job.accountsRecorded == 3)
        #expect(Set(emails) == Set(made.map(\.email)))
        let context = try #require(contexts.all.first)
        #expect(!context.isCancelled, "\(String(describing: context.stopReason))")
        #expect(second.stop())
    }
}
