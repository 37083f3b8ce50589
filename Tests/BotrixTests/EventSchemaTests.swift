import Foundation
import JSONCoding
import Testing

@testable import Botrix

/// Code and `schemas/events/` cannot drift: a sample of every event, encoded as stored,
/// must satisfy its schema (required fields present, no undeclared field, types right).
@Suite("Event schemas")
struct EventSchemaTests {
    static let job = UUID()
    static let samples: [DomainEvent] = [
        .jobCreated(JobCreated(jobID: job, count: 5, priority: 2, verificationEnabled: true)),
        .jobClaimed(JobClaimed(jobID: job, workerID: "w1", leaseExpiresAt: "2026-01-02T03:04:05.678Z", attempt: 1)),
        .jobClaimed(
            JobClaimed(
                jobID: job, workerID: "w1", leaseExpiresAt: "2026-01-02T03:04:05.678Z", attempt: 2, leaseSeconds: 3600,
                claimTokenHash: ClaimToken.hash("ct_x"), apiKey: "0123456789ab")),
        .jobReleased(JobReleased(jobID: job, workerID: "w1", reason: "shutting down")),
        .jobRetryDue(JobRetryDue(jobID: job, availableAt: "2026-01-02T03:04:15.678Z")),
        .progressUpdated(
            ProgressUpdated(
                jobID: job, workerID: "w1", progress: 2, successful: 2, failed: 1, message: "ok",
                leaseExpiresAt: "2026-01-02T03:05:05.678Z")),
        .progressUpdated(ProgressUpdated(jobID: job)),
        .accountCreated(
            AccountCreated(
                accountID: 1, jobID: job, workerID: "w1", email: "a@example.com", username: "alice",
                password: "secret-password", birthdate: "1990-01-02", verificationCode: "1234", status: .pending,
                accountData: ["k": .array([.int(1), .string("x"), .null, .bool(true), .double(1.5)])])),
        .accountUpdated(
            AccountUpdated(
                accountID: 1, status: .active, verificationCode: "9", accountData: [:], password: "new-password",
                email: "b@example.com", username: "bob")),
        .accountUpdated(AccountUpdated(accountID: 1, status: .disabled)),
        .accountDeleted(AccountDeleted(accountID: 1, jobID: job)),
        .jobCompleted(JobCompleted(jobID: job, workerID: "w1")),
        .jobFailed(JobFailed(jobID: job, workerID: "w1", error: "boom", requeued: false)),
        .jobFailed(
            JobFailed(
                jobID: job, workerID: "w1", error: "flaky", requeued: true, availableAt: "2026-01-02T03:04:15.678Z")),
        .jobCancelled(JobCancelled(jobID: job, reason: "not needed")),
        .jobLeaseExpired(
            JobLeaseExpired(jobID: job, workerID: "w1", leaseExpiresAt: "2026-01-02T03:04:05.678Z", requeued: true)),
    ]

    @Test("every event type has a schema and every sample satisfies it")
    func samplesMatchSchemas() throws {
        #expect(Set(Self.samples.map(\.type)) == Set(DomainEvent.allTypes))
        for event in Self.samples {
            let schema = try Self.schema(event.type)
            let data = try event.encodedData()
            let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(data))
            let problems = SchemaCheck.problems(object, against: schema)
            #expect(problems.isEmpty, "\(event.type): \(problems)")
            #expect(try DomainEvent(type: event.type, data: data) == event)
        }
    }

    @Test("the checker itself catches a missing field, an extra field and a wrong type")
    func checkerCatches() throws {
        let schema = try Self.schema("JobCreated")
        let id = JSONValue.string(Self.job.uuidString.lowercased())
        #expect(!SchemaCheck.problems(["job_id": id], against: schema).isEmpty)
        let extra: [String: JSONValue] = [
            "job_id": id, "count": .int(1), "priority": .int(1), "verification_enabled": .bool(true), "x": .int(1),
        ]
        #expect(SchemaCheck.problems(extra, against: schema) == ["x: not declared"])
        let wrongType: [String: JSONValue] = [
            "job_id": id, "count": .string("1"), "priority": .int(1), "verification_enabled": .bool(true),
        ]
        #expect(SchemaCheck.problems(wrongType, against: schema) == ["count: not integer"])
    }

    static func schema(_ type: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schemas/events/\(type).schema.json").standardized
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }
}

/// The parts of JSON Schema the event schemas use: required, additionalProperties,
/// type, enum, pattern, minimum/maximum, minLength/maxLength.
enum SchemaCheck {
    static func problems(_ object: [String: JSONValue], against schema: [String: Any]) -> [String] {
        var out: [String] = []
        let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        for name in schema["required"] as? [String] ?? [] where object[name] == nil { out.append("\(name): missing") }
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            guard let rule = properties[name] else {
                out.append("\(name): not declared")
                continue
            }
            out += check(value, rule).map { "\(name): \($0)" }
        }
        return out
    }

    static func check(_ value: JSONValue, _ rule: [String: Any]) -> [String] {
        if let options = rule["enum"] as? [String] {
            guard case .string(let text) = value, options.contains(text) else { return ["not one of \(options)"] }
            return []
        }
        switch (rule["type"] as? String, value) {
        case ("string", .string(let text)):
            if let min = rule["minLength"] as? Int, text.count < min { return ["shorter than \(min)"] }
            if let max = rule["maxLength"] as? Int, text.count > max { return ["longer than \(max)"] }
            if let pattern = rule["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                return ["does not match \(pattern)"]
            }
            return []
        case ("integer", .int(let number)):
            if let min = rule["minimum"] as? Int, number < min { return ["below \(min)"] }
            if let max = rule["maximum"] as? Int, number > max { return ["above \(max)"] }
            return []
        case ("boolean", .bool), ("object", .object), (nil, _): return []
        case (let type?, _): return ["not \(type)"]
        }
    }
}
