import BotrixClient
import Foundation
import TestSupport
import Testing

/// The Worker against the built server: a whole job, a failing handler, a cancel.
@Suite("Swift client: worker flow, live", .serialized)
struct WorkerFlowTests {
    @Test("a Worker records 3 accounts and completes; the job shows completed with those 3 accounts")
    func fullFlow() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("flow.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        let created = try await client.createJob(count: 3, priority: .high)
        #expect(created.status == .pending)
        let made = (0..<3).map { _ in fakeAccount("flow") }
        let remainingAtStart = Box<Int>()
        let reports = Box<JobReport>()
        let worker = Worker(
            client: client, workerID: "w-flow", leaseSeconds: patientLease, waitSeconds: 2,
            onJobFinished: { reports.append($0) })

        let handled = try await bounded(patience, "the worker to handle one job") {
            try await worker.run(maxJobs: 1) { context in
                remainingAtStart.append(context.remaining)
                for account in made { try await context.record(account) }
                try await context.progress(successful: 3, message: "done")
            }
        }

        #expect(handled == 1)
        #expect(remainingAtStart.all == [3])
        let report = try #require(reports.all.first)
        #expect(report.jobID == created.jobID)
        #expect(report.outcome == .completed)
        #expect(Set(report.accounts.map(\.email)) == Set(made.map(\.email)))
        let job = try await client.job(created.jobID)
        #expect(job.status == .completed)
        #expect(job.accountsRecorded == 3)
        #expect(job.successful == 3)
        let stored = try await accounts(of: created.jobID, client)
        #expect(stored.count == 3)
        #expect(Set(stored.map(\.email)) == Set(made.map(\.email)))
        let types = try await client.events(ofJob: created.jobID, limit: 1000).data.map(\.type)
        #expect(types.filter { $0 == "JobCompleted" }.count == 1, "\(types)")
        #expect(server.stop())
    }

    @Test("a handler that throws fails the attempt with retry: the job is pending again, with the error")
    func handlerErrorFailsWithRetry() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("fail.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        let created = try await client.createJob(count: 1)
        struct FakeFailure: Error, CustomStringConvertible {
            var description: String { "fake failure" }
        }
        let reports = Box<JobReport>()
        let worker = Worker(
            client: client, workerID: "w-err", leaseSeconds: patientLease, waitSeconds: 2,
            onJobFinished: { reports.append($0) })

        let handled = try await bounded(patience, "the worker to handle one job") {
            try await worker.run(maxJobs: 1) { _ in throw FakeFailure() }
        }

        #expect(handled == 1)
        let report = try #require(reports.all.first)
        guard case .failed(let message) = report.outcome else {
            Issue.record("expected a failed outcome, got \(report.outcome)")
            return
        }
        #expect(message.contains("fake failure"))
        let job = try await client.job(created.jobID)
        #expect(job.status == .pending, "the job should be back in the queue for another try")
        #expect(job.errorMessage?.contains("fake failure") == true, "\(String(describing: job.errorMessage))")
        #expect(server.stop())
    }

    @Test("a cancel mid-work reaches the handler through the heartbeat; the worker reports nothing more")
    func cancelViaHeartbeat() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("cancel.mdb"))
        let client = BotrixClient(baseURL: server.baseURL, requestTimeout: .seconds(10))
        let created = try await client.createJob(count: 5)
        let recordedOne = Latch()
        let contexts = Box<JobContext>()
        let thrown = Box<String>()
        let reports = Box<JobReport>()
        // A 30 s lease: a heartbeat every 10 s brings the cancel.
        let worker = Worker(
            client: client, workerID: "w-cancel", leaseSeconds: 30, waitSeconds: 2,
            onJobFinished: { reports.append($0) })

        let run = Task {
            try await worker.run(maxJobs: 1) { context in
                contexts.append(context)
                try await context.record(fakeAccount("cxl"))
                recordedOne.open()
                do {
                    // Only the cancel can cut this short; far longer than a late heartbeat.
                    try await context.sleep(for: .seconds(600))
                } catch {
                    thrown.append("\(type(of: error))")
                    throw error
                }
                try await context.record(fakeAccount("cxl"))  // not reached
            }
        }
        #expect(await recordedOne.wait(seconds: patience), "the first account was not recorded")
        let cancelled = try await client.cancel(created.jobID, reason: "operator says stop")
        #expect(cancelled.status == .cancelled)
        let handled = try await bounded(patience, "the worker to stop after the cancel") {
            try await valueOf(run)
        }

        #expect(handled == 1)
        #expect(thrown.all == ["JobCancelled"])
        let context = try #require(contexts.all.first)
        #expect(context.isCancelled)
        #expect(!context.isLost)
        #expect(context.stopReason?.contains("heartbeat") == true, "\(String(describing: context.stopReason))")
        let report = try #require(reports.all.first)
        #expect(report.outcome.name == "dropped")
        await #expect(throws: JobCancelled.self) { try await context.record(fakeAccount("cxl")) }
        #expect(try await client.job(created.jobID).status == .cancelled)
        #expect(try await accounts(of: created.jobID, client).count == 1)
        let types = try await client.events(ofJob: created.jobID, limit: 1000).data.map(\.type)
        #expect(types.last == "JobCancelled", "the worker acted after the cancel: \(types)")
        #expect(server.stop())
    }
}
