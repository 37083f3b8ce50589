import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Botrix
@testable import BotrixServer

/// What the dashboard's route tests share: the pages to visit, and a browser's moves
/// (sign in, post a form, read the form token) through HummingbirdTesting.
protocol DashboardTesting {}

extension DashboardTesting {
    /// Every page a GET reaches, with ids that exist in ``seeded(_:_:)``.
    static func pages(job: String, account: Int = 1) -> [String] {
        [
            "/ui/", "/ui/jobs", "/ui/jobs?status=pending", "/ui/jobs/\(job)", "/ui/jobs/\(job)/cancel",
            "/ui/jobs/\(job)?fragment=1", "/ui/accounts", "/ui/accounts?q=user", "/ui/accounts/\(account)",
            "/ui/events", "/ui/events?stream=job-\(job)", "/ui/replay?seq=2", "/ui/health", "/ui/?fragment=1",
        ]
    }

    /// Two jobs and, for the first, a claim and one recorded account.
    static func seeded(_ client: some TestClientProtocol, _ admin: HTTPFields) async throws -> String {
        let job = try #require(
            try await client.call(.post, "/api/jobs", json: #"{"count":2}"#, headers: admin).body?["job_id"] as? String)
        _ = try await client.call(.post, "/api/jobs", json: #"{"count":1}"#, headers: admin)
        return job
    }

    static func jobStatus(_ client: some TestClientProtocol, _ job: String, _ admin: HTTPFields) async throws -> String?
    {
        try await client.call(.get, "/api/jobs/\(job)", headers: admin).body?["status"] as? String
    }

    static func token(_ header: HTTPFields) throws -> String {
        String(try #require(header[.authorization]).dropFirst("Bearer ".count))
    }

    static func session(_ setCookie: String) -> HTTPFields {
        [.cookie: String(setCookie.prefix { $0 != ";" })]
    }

    static func signIn(_ client: some TestClientProtocol, _ key: String) async throws -> HTTPFields {
        let answer = try await post(client, "/ui/login", ["key": key])
        #expect(answer.status == .seeOther)
        return session(try #require(answer.headers[.setCookie]))
    }

    /// The form token of a page (its sign-out form or a cancel form).
    static func csrf(_ html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func post(
        _ client: some TestClientProtocol, _ path: String, _ form: [String: String], headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any]?, text: String) {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
        return try await client.execute(
            uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)
        ) { response in
            (response.status, response.headers, nil, String(buffer: response.body))
        }
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

extension HTTPFields {
    static func + (lhs: HTTPFields, rhs: HTTPFields) -> HTTPFields {
        var out = lhs
        for field in rhs { out[field.name] = field.value }
        return out
    }

}
