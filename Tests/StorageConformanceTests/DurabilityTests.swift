import Foundation
import Storage
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An acknowledged commit survives the process being killed at any instant.
@Suite("Storage conformance: durability")
struct DurabilityTests {
    @Test(
        "SIGKILL at random moments, 8 times: every acknowledged write is there, and no write is half there (a process crash; a power cut is beyond what a test here can cause)",
        arguments: Backend.all)
    func durableAcrossKill(backend: Backend) async throws {
        let program = try #require(
            builtExecutable("CrashWriter"), "build the CrashWriter target first (make test does)")
        let folder = TemporaryFolder("storage-kill")
        let path = folder.file("store.mdb")
        let acks = folder.file("acks.txt")
        var highestAcknowledged: UInt64 = 0
        for round in 0..<8 {
            let before = Self.acknowledged(acks).count
            let process = Process()
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = ["--storage-writes", path, acks]
            try process.run()
            // Timed on a thread of its own, not by a task on Swift's shared pool (which a busy
            // test process can starve for seconds while the writer keeps writing).
            let killAfter = Double.random(in: 0...0.08)
            try await onOwnThread {
                let deadline = Date().addingTimeInterval(60)
                while Self.acknowledged(acks).count <= before, Date() < deadline, process.isRunning {
                    Thread.sleep(forTimeInterval: 0.005)
                }
                Thread.sleep(forTimeInterval: killAfter)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): the writer exited by itself")
            let acknowledged = Self.acknowledged(acks)
            highestAcknowledged = acknowledged.max() ?? 0
            let stored = try await onOwnThread { try Self.stored(at: path, backend: backend) }
            #expect(
                stored.last >= highestAcknowledged,
                "round \(round): acknowledged \(highestAcknowledged), stored up to \(stored.last)")
            #expect(
                stored.numbers == Array(stored.last == 0 ? [] : Array(1...stored.last)),
                "round \(round): a gap or an extra key")
            #expect(stored.intact, "round \(round): a value does not match its key")
        }
        #expect(highestAcknowledged >= 8)
    }

    /// The numbers the writer acknowledged so far.
    private static func acknowledged(_ path: String) -> [UInt64] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { UInt64($0) }
    }

    /// What the store holds after a kill: the numbers in order, meta's "last", and whether
    /// every value belongs to its key.
    private static func stored(at path: String, backend: Backend) throws -> (
        numbers: [UInt64], last: UInt64, intact: Bool
    ) {
        let engine = try backend.open(StorageOptions(path: path, mapSize: 1 << 24))
        let numbers = try engine.database("numbers")
        let meta = try engine.database("meta")
        return try engine.read { txn throws in
            let rows = try entries(numbers, in: txn)
            let keys = rows.compactMap { BigEndian.uint64($0.key) }
            let intact = zip(keys, rows).allSatisfy { number, row in row.value == Array("value \(number)".utf8) }
            let last = try txn.get(meta, Array("last".utf8)).flatMap { BigEndian.uint64($0) } ?? 0
            return (keys, last, intact)
        }
    }
}
