import BotrixServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Botrix

/// Every route's bad input gets the exact 4xx problem and appends nothing.
@Suite("Bad input")
struct BadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let body: String?
        let status: HTTPResponse.Status
        let field: String?
        var headers: HTTPFields = [:]
        var description: String { "\(method) \(path) \(body ?? "")" }
    }

    static let job = "JOB"  // replaced by a real running job's id
    static let cases: [Case] = [
        Case(method: .post, path: "/api/jobs", body: "{not json", status: .badRequest, field: nil),
        Case(method: .post, path: "/api/jobs", body: "[1,2]", status: .badRequest, field: nil),
        Case(method: .post, path: "/api/jobs", body: "", status: .badRequest, field: nil),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":"five"}"#, status: .unprocessableContent, field: "count"),
        Case(method: .post, path: "/api/jobs", body: #"{"count":0}"#, status: .unprocessableContent, field: "count"),
        Case(method: .post, path: "/api/jobs", body: #"{"count":101}"#, status: .unprocessableContent, field: "count"),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":99999999999999999999}"#, status: .unprocessableContent,
            field: "count"),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":1,"priority":"urgent"}"#, status: .unprocessableContent,
            field: "priority"),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":1,"priority":11}"#, status: .unprocessableContent,
            field: "priority"),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":1,"verification_enabled":"yes"}"#,
            status: .unprocessableContent, field: "verification_enabled"),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":1,"colour":"red"}"#, status: .unprocessableContent,
            field: "colour"),
        Case(method: .post, path: "/api/jobs", body: #"{}"#, status: .unprocessableContent, field: "count"),
        Case(
            method: .post, path: "/api/accounts", body: #"{"count":-1}"#, status: .unprocessableContent, field: "count"),
        Case(method: .get, path: "/api/jobs/not-a-uuid", body: nil, status: .badRequest, field: nil),
        Case(
            method: .get, path: "/api/jobs/00000000-0000-0000-0000-000000000000", body: nil, status: .notFound,
            field: nil),
        Case(method: .get, path: "/api/jobs?page=0", body: nil, status: .unprocessableContent, field: "page"),
        Case(method: .get, path: "/api/jobs?limit=101", body: nil, status: .unprocessableContent, field: "limit"),
        Case(method: .get, path: "/api/jobs?limit=-5", body: nil, status: .unprocessableContent, field: "limit"),
        Case(
            method: .get, path: "/api/jobs?page=99999999999999999999", body: nil, status: .unprocessableContent,
            field: "page"),
        Case(
            method: .get, path: "/api/jobs?status=sleeping", body: nil, status: .unprocessableContent, field: "status"),
        Case(
            method: .get, path: "/api/accounts?job_id=nope", body: nil, status: .unprocessableContent, field: "job_id"),
        Case(method: .get, path: "/api/accounts/abc", body: nil, status: .badRequest, field: nil),
        Case(method: .get, path: "/api/accounts/0", body: nil, status: .badRequest, field: nil),
        Case(method: .get, path: "/api/accounts/424242", body: nil, status: .notFound, field: nil),
        Case(method: .put, path: "/api/accounts/424242", body: #"{"status":"active"}"#, status: .notFound, field: nil),
        Case(
            method: .put, path: "/api/accounts/1", body: #"{"status":"asleep"}"#, status: .unprocessableContent,
            field: "status"),
        Case(method: .put, path: "/api/accounts/1", body: #"{}"#, status: .unprocessableContent, field: "body"),
        Case(
            method: .put, path: "/api/accounts/1", body: #"{"email":"nope"}"#, status: .unprocessableContent,
            field: "email"),
        Case(
            method: .put, path: "/api/accounts/1", body: #"{"status":"active"}"#, status: .preconditionFailed,
            field: nil, headers: [.ifMatch: "\"9\""]),
        Case(
            method: .put, path: "/api/accounts/1", body: #"{"status":"active"}"#, status: .badRequest, field: nil,
            headers: [.ifMatch: "yesterday"]),
        Case(
            method: .delete, path: "/api/accounts/1", body: nil, status: .preconditionFailed, field: nil,
            headers: [.ifMatch: "\"7\""]),
        Case(method: .delete, path: "/api/accounts/424242", body: nil, status: .notFound, field: nil),
        Case(
            method: .post, path: "/api/jobs/JOB/cancel", body: nil, status: .preconditionFailed, field: nil,
            headers: [.ifMatch: "\"1\""]),
        Case(method: .post, path: "/api/queue/claim", body: #"{}"#, status: .unprocessableContent, field: "worker_id"),
        Case(
            method: .post, path: "/api/queue/claim", body: #"{"worker_id":"w","lease_seconds":0}"#,
            status: .unprocessableContent, field: "lease_seconds"),
        Case(
            method: .post, path: "/api/queue/claim", body: #"{"worker_id":7}"#, status: .unprocessableContent,
            field: "worker_id"),
        Case(
            method: .post, path: "/api/jobs/JOB/heartbeat", body: #"{"worker_id":"intruder"}"#, status: .conflict,
            field: nil),
        Case(
            method: .post, path: "/api/jobs/JOB/progress", body: #"{"worker_id":"w1","progress":-1}"#,
            status: .unprocessableContent, field: "progress"),
        Case(
            method: .post, path: "/api/jobs/JOB/progress", body: #"{"worker_id":"w1","successful":"many"}"#,
            status: .unprocessableContent, field: "successful"),
        Case(
            method: .post, path: "/api/jobs/JOB/accounts", body: #"{"worker_id":"w1"}"#, status: .unprocessableContent,
            field: "email"),
        Case(
            method: .post, path: "/api/jobs/JOB/accounts",
            body: #"{"worker_id":"w1","email":"a@b.co","username":"ab","password":"short","birthdate":"1800-01-01"}"#,
            status: .unprocessableContent, field: "username"),
        Case(
            method: .post, path: "/api/jobs/JOB/accounts",
            body:
                #"{"worker_id":"w1","email":"taken@example.com","username":"other1","password":"password1","birthdate":"1990-01-01"}"#,
            status: .unprocessableContent, field: "email"),
        Case(
            method: .post, path: "/api/jobs/JOB/accounts",
            body:
                #"{"worker_id":"w1","email":"x@example.com","username":"xx_1","password":"password1","birthdate":"1990-01-01","account_data":[1]}"#,
            status: .unprocessableContent, field: "account_data"),
        Case(
            method: .post, path: "/api/jobs/JOB/fail", body: #"{"worker_id":"w1"}"#, status: .unprocessableContent,
            field: "error"),
        Case(
            method: .post, path: "/api/jobs/00000000-0000-0000-0000-000000000000/complete",
            body: #"{"worker_id":"w1"}"#, status: .notFound, field: nil),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":1}"#, status: .unsupportedMediaType, field: nil,
            headers: [.contentType: "text/plain"]),
        Case(method: .get, path: "/api/events?after=-1", body: nil, status: .unprocessableContent, field: "after"),
        Case(method: .get, path: "/api/events?limit=0", body: nil, status: .unprocessableContent, field: "limit"),
        Case(method: .get, path: "/api/events?type=Nope", body: nil, status: .unprocessableContent, field: "type"),
        Case(
            method: .get, path: "/api/jobs/00000000-0000-0000-0000-000000000000/events", body: nil, status: .notFound,
            field: nil),
        Case(
            method: .get, path: "/api/events/stream", body: nil, status: .badRequest, field: nil,
            headers: [.lastEventID: "abc"]),
        Case(method: .get, path: "/api/nothing", body: nil, status: .notFound, field: nil),
        Case(
            method: .post, path: "/api/jobs", body: #"{"count":1}"#, status: .badRequest, field: nil,
            headers: [.idempotencyKey: String(repeating: "k", count: 201)]),
    ]

    @Test("each bad request gets its problem and leaves the log head unchanged")
    func badRequests() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let job = try #require(
                try await client.call(.post, "/api/jobs", json: #"{"count":5}"#).body?["job_id"] as? String)
            _ = try await client.call(.post, "/api/queue/claim", json: #"{"worker_id":"w1"}"#)
            let first = try await client.call(
                .post, "/api/jobs/\(job)/accounts",
                json:
                    #"{"worker_id":"w1","email":"taken@example.com","username":"taken","password":"password1","birthdate":"1990-01-01"}"#
            )
            #expect(first.status == .created)
            for bad in Self.cases {
                let before = h.head
                let path = bad.path.replacingOccurrences(of: "JOB", with: job)
                let response = try await client.call(bad.method, path, json: bad.body, headers: bad.headers)
                #expect(response.status == bad.status, "\(bad): \(response.text)")
                #expect(response.headers[.contentType] == "application/problem+json", "\(bad)")
                #expect(response.body?["status"] as? Int == Int(bad.status.code), "\(bad)")
                #expect((response.body?["detail"] as? String)?.isEmpty == false, "\(bad)")
                #expect(response.headers[.requestID] != nil, "\(bad)")
                if let field = bad.field {
                    let fields = (response.body?["errors"] as? [[String: String]])?.compactMap { $0["field"] } ?? []
                    #expect(fields.contains(field), "\(bad): \(fields)")
                }
                #expect(h.head == before, "\(bad) appended")
            }
        }
    }

    @Test("a body over 256 KiB gets 413 and appends nothing")
    func oversizedBody() async throws {
        let h = try APIHarness()
        try await h.app().test(.router) { client in
            let before = h.head
            let huge = #"{"count":1,"pad":""# + String(repeating: "x", count: 300 * 1024) + #""}"#
            let response = try await client.call(.post, "/api/jobs", json: huge)
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(h.head == before)
        }
    }
}
