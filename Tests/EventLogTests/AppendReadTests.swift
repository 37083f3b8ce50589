import EventLog
import Foundation
import JSONCoding
import LMDB
import Storage
import TestSupport
import Testing

@Suite("Append and read")
struct AppendReadTests {
    @Test("appended events read back whole, in order, with gapless sequences and versions")
    func roundTrip() async throws {
        let fixture = try LogFixture(clock: { 1_767_323_045_678 })
        let first = try await fixture.writer.append(
            AppendRequest(
                stream: "job-a", expectedVersion: .noStream, events: [event("A", ["n": 1]), event("B", ["n": 2])]))
        let second = try await fixture.writer.append(AppendRequest(stream: "job-b", events: [event("C", ["n": 3])]))
        let third = try await fixture.writer.append(
            AppendRequest(stream: "job-a", expectedVersion: .exact(2), events: [event("D", ["n": 4])]))
        #expect(
            first == AppendResult(stream: "job-a", firstSequence: 1, lastSequence: 2, firstVersion: 1, lastVersion: 2))
        #expect(second.firstSequence == 3 && second.firstVersion == 1)
        #expect(third.firstSequence == 4 && third.lastVersion == 3)

        let all = try fixture.log.read(after: 0, limit: 100)
        #expect(all.map(\.sequence) == [1, 2, 3, 4])
        #expect(all.map(\.type) == ["A", "B", "C", "D"])
        #expect(all.map { field($0, "n") } == [1, 2, 3, 4])
        #expect(all.allSatisfy { $0.metadata == ["actor": "test"] && $0.recordedAt == 1_767_323_045_678 })
        #expect(try fixture.log.read(after: 2, limit: 1).map(\.sequence) == [3])
        #expect(try fixture.log.readStream("job-a").map(\.version) == [1, 2, 3])
        #expect(try fixture.log.readStream("job-a", afterVersion: 2).map(\.sequence) == [4])
        #expect(try fixture.log.readStream("job-").isEmpty)
        let head = try fixture.log.head()
        #expect(head.sequence == 4 && head.hash == all[3].hash)
    }

    @Test("what a transaction says it appended, from any event on, is what the log reads back")
    func appendedEqualsStored() async throws {
        let fixture = try LogFixture()
        _ = try await fixture.writer.append(AppendRequest(stream: "before", events: [event("Z")]))
        let requests = [
            AppendRequest(stream: "job-a", events: (0..<5).map { event("A\($0)", ["n": $0]) }),
            AppendRequest(stream: "job-b", events: [event("B", ["n": 9])]),
            AppendRequest(
                stream: "job-a",
                events: [
                    ProposedEvent(type: "C", data: Array(#"{"k":"ü"}"#.utf8), metadata: ["actor": "x", "why": "1"]),
                    ProposedEvent(type: "D", data: Array(#"{}"#.utf8)),
                ]),
        ]
        let reported = try await fixture.writer.perform { ltx in
            for request in requests { _ = try ltx.append(request) }
            return (ltx.appendedCount, (0...ltx.appendedCount + 1).map { ltx.appended(from: $0) })
        }
        let stored = try fixture.log.read(after: 1, limit: 100)
        #expect(reported.0 == 8 && stored.count == 8)
        for (first, events) in reported.1.enumerated() {
            #expect(events == Array(stored.dropFirst(first)), "from \(first)")
        }
        #expect(stored.map(\.type) == ["A0", "A1", "A2", "A3", "A4", "B", "C", "D"])
    }

    @Test("each record carries the hash of the one before it")
    func hashChain() async throws {
        let fixture = try LogFixture()
        for n in 0..<20 { _ = try await fixture.writer.append(AppendRequest(stream: "s-\(n % 3)", events: [event()])) }
        let all = try fixture.log.read(after: 0, limit: 100)
        #expect(all[0].previousHash == [UInt8](repeating: 0, count: 32))
        for (earlier, later) in zip(all, all.dropFirst()) { #expect(later.previousHash == earlier.hash) }
        #expect(Set(all.map(\.hash)).count == 20)
        #expect(try fixture.log.verify().isIntact)
    }

    @Test("the public JSON shape has exactly the documented fields (schemas/event.schema.json) with sorted keys")
    func publicShape() async throws {
        let fixture = try LogFixture(clock: { 1_767_323_045_678 })
        _ = try await fixture.writer.append(
            AppendRequest(stream: "job-\"x\"", events: [event("JobCreated", ["count": 5])]))
        let recorded = try #require(try fixture.log.read(after: 0, limit: 1).first)
        let text = String(decoding: recorded.publicJSON(), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "seq", "stream", "version", "type", "recorded_at", "data", "metadata", "prev_hash", "hash",
            ])
        #expect(object["stream"] as? String == "job-\"x\"")
        #expect(object["recorded_at"] as? String == "2026-01-02T03:04:05.678Z")
        #expect((object["data"] as? [String: Int]) == ["count": 5])
        #expect(object["hash"] as? String == JSONText.hex(recorded.hash))
        #expect(text.hasPrefix(#"{"data":{"count":5},"hash":""#))
        // The document in schemas/ and the code cannot drift apart.
        let schemaPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schemas/event.schema.json").standardized
        let schema = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: schemaPath)) as? [String: Any])
        #expect(Set(schema["required"] as? [String] ?? []) == Set(object.keys))
        #expect(Set((schema["properties"] as? [String: Any] ?? [:]).keys) == Set(object.keys))
    }

    @Test("recorded_at never goes backwards even when the clock does")
    func monotonicTime() async throws {
        let times = ClockScript([5000, 3000, 7000])
        let fixture = try LogFixture(clock: { times.next() })
        for _ in 0..<3 { _ = try await fixture.writer.append(AppendRequest(stream: "s", events: [event()])) }
        #expect(try fixture.log.read(after: 0, limit: 10).map(\.recordedAt) == [5000, 5000, 7000])
    }

    @Test("timestamps format and parse as RFC 3339 with milliseconds")
    func timestamps() {
        #expect(Timestamp.rfc3339(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(milliseconds: 951_782_400_001) == "2000-02-29T00:00:00.001Z")
        #expect(Timestamp.parse("2026-01-02T03:04:05.678Z") == 1_767_323_045_678)
        #expect(Timestamp.parse("2026-01-02T04:04:05.678+01:00") == 1_767_323_045_678)
        #expect(Timestamp.parse("2026-01-02T03:04:05Z") == 1_767_323_045_000)
        #expect(Timestamp.parse("2026-02-30T03:04:05Z") == nil)
        #expect(Timestamp.parse("yesterday") == nil)
        for _ in 0..<200 {
            let ms = Int64.random(in: -2_000_000_000_000...5_000_000_000_000)
            #expect(Timestamp.parse(Timestamp.rfc3339(milliseconds: ms)) == ms)
        }
    }
}

/// A clock that answers from a script, for deterministic `recorded_at`.
final class ClockScript: @unchecked Sendable {
    private var values: [Int64]
    private var index = 0
    init(_ values: [Int64]) { self.values = values }
    func next() -> Int64 {
        defer { index = min(index + 1, values.count - 1) }
        return values[index]
    }
}
