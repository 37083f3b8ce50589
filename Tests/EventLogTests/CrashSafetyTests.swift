import EventLog
import Foundation
import LMDB
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Crash safety")
struct CrashSafetyTests {
    @Test("SIGKILL at random moments, 24 times: the chain verifies and every acknowledged event is there")
    func killRepeatedly() async throws {
        let program = try #require(
            builtExecutable("CrashWriter"), "build the CrashWriter target first (make test does)")
        let folder = TemporaryFolder("botrix-crash")
        let database = folder.file("crash.mdb")
        let acks = folder.file("acks.txt")
        var acknowledged: [ClosedRange<UInt64>] = []
        for round in 0..<24 {
            let before = (try? FileManager.default.attributesOfItem(atPath: acks)[.size] as? Int) ?? 0
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = [database, acks]
            try process.run()
            // Wait until this run has acknowledged something, then kill at a random moment. On a
            // thread of its own: timed by a task on Swift's shared pool, a busy test process
            // let the writer run for minutes and the log grow to hundreds of thousands of events.
            let killAfter = Double.random(in: 0...0.12)
            try await onOwnThread {
                let deadline = Date().addingTimeInterval(20)
                while ((try? FileManager.default.attributesOfItem(atPath: acks)[.size] as? Int) ?? 0) <= before,
                    Date() < deadline, process.isRunning
                {
                    Thread.sleep(forTimeInterval: 0.005)
                }
                Thread.sleep(forTimeInterval: killAfter)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): the writer exited by itself")

            acknowledged = try String(contentsOfFile: acks, encoding: .utf8).split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ").compactMap { UInt64($0) }
                return parts.count == 2 ? parts[0]...parts[1] : nil
            }
            let known = acknowledged
            let problems = try await onOwnThread { try Self.problems(at: database, acknowledged: known) }
            #expect(problems.isEmpty, "round \(round): \(problems.prefix(5))")
        }
        #expect(acknowledged.count > 24)
    }

    /// What is wrong with the store after a kill (empty when nothing): run on its own thread,
    /// so it reports rather than records.
    private static func problems(at path: String, acknowledged: [ClosedRange<UInt64>]) throws -> [String] {
        let environment = try Environment(.init(path: path, mapSize: 1 << 24))
        let log = try EventLog(environment: environment)
        let report = try log.verify()
        var problems = report.isIntact ? [] : ["the chain does not verify: \(report.problems)"]
        let head = try log.head().sequence
        let highest = acknowledged.map(\.upperBound).max() ?? 0
        if highest > head { problems.append("acknowledged \(highest) but head is \(head)") }
        try environment.read { (txn) throws in
            for range in acknowledged {
                for sequence in range where try log.event(at: sequence, in: txn)?.stream.hasPrefix("crash-") != true {
                    problems.append("event \(sequence) lost")
                }
            }
        }
        return problems
    }
}
