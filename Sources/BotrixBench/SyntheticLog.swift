import Botrix
import EventLog
import Foundation
import Storage
import StorageBackends

/// Writes a realistic log straight into the event log (no projections): jobs created,
/// claimed, filled with accounts and completed, as workers would leave it. Used to
/// measure rebuild on logs far larger than a benchmark could produce command by command.
enum SyntheticLog {
    /// Appends at least `events` events; returns how many were written.
    static func write(events target: Int, accountsPerJob: Int = 5, into log: EventLog) throws -> Int {
        var written = 0
        var accountID: Int64 = 1
        var jobNumber = 0
        let start: Int64 = 1_767_323_045_678
        while written < target {
            try log.environment.write { txn in
                var ltx = LogTransaction(log: log, transaction: txn, now: start + Int64(written))
                while written < target && ltx.appendedCount < 20_000 {
                    jobNumber += 1
                    let job = UUID()
                    let lease = Timestamp.rfc3339(milliseconds: start + 300_000)
                    var jobEvents: [DomainEvent] = [
                        .jobCreated(
                            JobCreated(
                                jobID: job, count: accountsPerJob, priority: jobNumber % 3, verificationEnabled: false)),
                        .jobClaimed(
                            JobClaimed(
                                jobID: job, workerID: "worker-\(jobNumber % 16)", leaseExpiresAt: lease, attempt: 1)),
                    ]
                    try append(jobEvents, stream: Streams.job(job), &ltx)
                    for _ in 0..<accountsPerJob {
                        let account = AccountCreated(
                            accountID: accountID, jobID: job, workerID: "worker-\(jobNumber % 16)",
                            email: "user\(accountID)@example.com", username: "user_\(accountID)",
                            password: "generated-password-\(accountID)", birthdate: "1990-01-01", status: .pending,
                            accountData: ["source": .string("synthetic")])
                        try append([.accountCreated(account)], stream: Streams.account(accountID), &ltx)
                        accountID += 1
                    }
                    jobEvents = [
                        .progressUpdated(
                            ProgressUpdated(
                                jobID: job, workerID: "worker-\(jobNumber % 16)", successful: accountsPerJob)),
                        .jobCompleted(JobCompleted(jobID: job, workerID: "worker-\(jobNumber % 16)")),
                    ]
                    try append(jobEvents, stream: Streams.job(job), &ltx)
                    written += 4 + accountsPerJob
                }
            }
        }
        return written
    }

    private static func append(_ events: [DomainEvent], stream: String, _ ltx: inout LogTransaction) throws {
        let proposed = try events.map { ProposedEvent(type: $0.type, data: try $0.encodedData()) }
        _ = try ltx.append(AppendRequest(stream: stream, events: proposed))
    }
}
