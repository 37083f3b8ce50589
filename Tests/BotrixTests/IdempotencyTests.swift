import Foundation
import Testing

@testable import Botrix

/// Idempotent answers are scoped, fingerprinted, and expire; the sweep deletes them.
@Suite("Idempotent answers")
struct IdempotencyTests {
    static func replay(_ scope: String, _ key: String, body: String) -> CommandMetadata.Replay {
        CommandMetadata.Replay(
            scope: scope, key: key, fingerprint: CommandMetadata.Replay.fingerprint(Array(body.utf8))
        ) { result in
            Array(((result as? JobView)?.id.uuidString ?? "?").utf8)
        }
    }

    @Test("one key in two scopes runs twice; the same scope with another body is refused and appends nothing")
    func scopes() async throws {
        let f = try await DomainFixture.make()
        let a = try await f.service.createJob(
            CreateJob(count: 1), metadata: CommandMetadata(replay: Self.replay("key-a POST /api/jobs", "k", body: "1")))
        let b = try await f.service.createJob(
            CreateJob(count: 1), metadata: CommandMetadata(replay: Self.replay("key-b POST /api/jobs", "k", body: "1")))
        #expect(a.id != b.id)
        await #expect {
            _ = try await f.service.createJob(
                CreateJob(count: 1),
                metadata: CommandMetadata(replay: Self.replay("key-a POST /api/jobs", "k", body: "1")))
        } throws: { error in
            (error as? StoredReplay).map { String(decoding: $0.answer, as: UTF8.self) == a.id.uuidString } ?? false
        }
        let head = try f.store.log.head().sequence
        await #expect(throws: IdempotencyKeyReused.self) {
            _ = try await f.service.createJob(
                CreateJob(count: 2),
                metadata: CommandMetadata(replay: Self.replay("key-a POST /api/jobs", "k", body: "2")))
        }
        #expect(try f.store.log.head().sequence == head)
    }

    @Test("the data file does not hold the body's plain digest; the same body still replays, another is refused")
    func bodyDigestIsKeyed() async throws {
        let f = try await DomainFixture.make()
        let replay = Self.replay("key-a PATCH /api/accounts/1", "k-7f3a9c", body: #"{"password":"guess-me-2026"}"#)
        let job = try await f.service.createJob(CreateJob(count: 1), metadata: CommandMetadata(replay: replay))
        try f.store.environment.sync()
        let file = try Data(contentsOf: URL(fileURLWithPath: f.store.environment.path))
        #expect(file.range(of: Data(replay.fingerprint)) == nil, "the body's SHA-256 is in the file")
        await #expect {
            _ = try await f.service.createJob(CreateJob(count: 1), metadata: CommandMetadata(replay: replay))
        } throws: { error in
            (error as? StoredReplay).map { String(decoding: $0.answer, as: UTF8.self) == job.id.uuidString } ?? false
        }
        await #expect(throws: IdempotencyKeyReused.self) {
            _ = try await f.service.createJob(
                CreateJob(count: 1),
                metadata: CommandMetadata(
                    replay: Self.replay("key-a PATCH /api/accounts/1", "k-7f3a9c", body: #"{"password":"other"}"#)))
        }
    }

    @Test("an answer older than its lifetime is ignored, then swept; the key runs again")
    func expiryAndSweep() async throws {
        let f = try await DomainFixture.make()
        let first = try await f.service.createJob(
            CreateJob(count: 1), metadata: CommandMetadata(replay: Self.replay("s", "k", body: "x")))
        _ = try await f.service.createJob(
            CreateJob(count: 1), metadata: CommandMetadata(replay: Self.replay("s", "other", body: "x")))
        #expect(try f.service.idempotentAnswerCount() == 2)
        // Nothing is due yet: the sweep keeps both.
        #expect(try await f.service.sweepIdempotentAnswers(after: nil).deleted == 0)
        f.clock.advance(seconds: 86_400)
        #expect(try await f.service.sweepIdempotentAnswers(after: nil) == (2, nil))
        #expect(try f.service.idempotentAnswerCount() == 0)
        let again = try await f.service.createJob(
            CreateJob(count: 1), metadata: CommandMetadata(replay: Self.replay("s", "k", body: "x")))
        #expect(again.id != first.id)
    }

    @Test("the sweep walks a big table in bounded steps and resumes where it stopped")
    func sweepInSteps() async throws {
        let f = try await DomainFixture.make()
        for n in 0..<25 {
            _ = try await f.service.createJob(
                CreateJob(count: 1), metadata: CommandMetadata(replay: Self.replay("s", "k\(n)", body: "x")))
        }
        f.clock.advance(seconds: 86_401)
        var position: [UInt8]?
        var steps = 0
        var deleted = 0
        repeat {
            let step = try await f.service.sweepIdempotentAnswers(after: position, budget: 10)
            #expect(step.deleted <= 10)
            deleted += step.deleted
            position = step.next
            steps += 1
        } while position != nil && steps < 10
        #expect(deleted == 25 && steps == 3)
        #expect(try f.service.idempotentAnswerCount() == 0)
    }
}
