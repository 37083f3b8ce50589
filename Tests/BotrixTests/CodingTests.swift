import EventLog
import Foundation
import JSONCoding
import TestSupport
import Testing

@testable import Botrix

@Suite("Hand-written coding")
struct CodingTests {
    @Test("random JSON values survive writer then reader, and the writer sorts keys")
    func jsonRoundTrip() throws {
        var random = SplitMix(seed: 7)
        for _ in 0..<300 {
            let value = randomValue(&random, depth: 0)
            let bytes = JSONWriting.value(value)
            #expect(try JSONReader.parse(bytes) == value)
            // Foundation agrees the text is JSON.
            #expect((try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil)
        }
        #expect(
            String(decoding: JSONWriting.value(.object(["b": .int(1), "a": .null, "A": .bool(true)])), as: UTF8.self)
                == #"{"A":true,"a":null,"b":1}"#)
        #expect(
            try JSONReader.parse(Array(#"{"s":"\u00e9\ud83d\ude00\n\"x\""}"#.utf8))
                == .object(["s": .string("é😀\n\"x\"")]))
        for bad in ["{", #"{"a":}"#, "[1,]", "tru", #"{"a":1}x"#, "\"\u{1}\""] {
            #expect(throws: JSONReader.Failure.self, "\(bad)") { _ = try JSONReader.parse(Array(bad.utf8)) }
        }
    }

    @Test("projection rows round-trip every field")
    func rows() throws {
        let job = JobView(
            id: UUID(), count: 5, status: .running, progress: 2, successful: 3, failed: 1, priority: 7,
            verificationEnabled: true, errorMessage: "e", message: nil, attempts: 2, workerID: "w",
            leaseExpiresAt: "2026-01-02T03:04:05.678Z", createdAt: "a", updatedAt: "b", startedAt: "c",
            completedAt: nil,
            version: 9, createdSequence: 42, requeued: true)
        #expect(try JobView(row: job.row()) == job)
        let account = AccountView(
            id: 12, email: "a@b.co", username: "abc", password: "pw-123456", birthdate: "1990-01-01",
            verificationCode: nil, status: .verified, jobID: UUID(),
            accountData: ["k": .array([.int(1), .double(0.5)])],
            createdAt: "x", updatedAt: "y", version: 3)
        #expect(try AccountView(row: account.row()) == account)
        #expect(throws: (any Error).self) { _ = try JobView(row: [4] + job.row().dropFirst()) }
        // A row of format 1 (before claim tokens) still reads, with the new fields empty.
        var claimed = job
        claimed.leaseSeconds = 3600
        claimed.claimTokenHash = ClaimToken.hash("ct_x")
        claimed.claimKey = "0123456789ab"
        claimed.holders = ["w1", "w2"]
        claimed.accountsRecorded = 2
        #expect(try JobView(row: claimed.row()) == claimed)
        var waiting = claimed
        waiting.availableAt = "2026-01-02T03:04:15.678Z"
        #expect(try JobView(row: waiting.row()) == waiting)
        // A row of format 2 (before retry backoff) reads with no `available_at`.
        var two = claimed.row()
        two[0] = 2
        #expect(try JobView(row: Array(two.dropLast())) == claimed)
        var old = job.row()
        old[0] = 1
        var before = job
        before.accountsRecorded = job.progress  // format 1 counted accounts in progress
        #expect(try JobView(row: Array(old.prefix(old.count - 1 - 8 - 1 - 1 - 4 - 8))) == before)
        #expect(throws: (any Error).self) { _ = try JobView(row: Array(job.row().prefix(20))) }
    }

    @Test("UUID text is lowercase and parses either case")
    func uuidText() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(id.text == id.uuidString.lowercased())
            #expect(UUID(text: id.uuidString) == id && UUID(text: id.text) == id)
        }
        #expect(UUID(text: "not-a-uuid") == nil)
        #expect(UUID(text: "0f8e0000-0000-0000-0000-00000000000g") == nil)
    }

    func randomValue(_ random: inout SplitMix, depth: Int) -> JSONValue {
        switch random.next(upTo: depth > 2 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(random.next(upTo: 2) == 0)
        case 2: return .int(Int64(bitPattern: random.next()) >> Int64(random.next(upTo: 60)))
        case 3: return .double(Double(Int64(random.next(upTo: 1_000_000))) / 64)
        case 4:
            let pieces = Array("aé\"\\\n\t😀z/")
            return .string(
                String(
                    (0..<Int(random.next(upTo: 12))).map { _ in pieces[Int(random.next(upTo: UInt64(pieces.count)))] }))
        case 5: return .array((0..<Int(random.next(upTo: 4))).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object: JSONObject = [:]
            for n in 0..<Int(random.next(upTo: 4)) {
                object["k\(n)\(random.next(upTo: 9))"] = randomValue(&random, depth: depth + 1)
            }
            return .object(object)
        }
    }
}
