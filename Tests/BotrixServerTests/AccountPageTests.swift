import Foundation
import Hummingbird
import HummingbirdTesting
import JSONCoding
import Testing

@testable import Botrix
@testable import BotrixServer

/// `GET /api/accounts` serves small first and cursor pages in place and sends every other
/// page to the read pool; either way the answer is the page of views rendered.
@Suite("Account pages in place or on the pool")
struct AccountPageTests {
    @Test("small pages in place; pages past the byte bound, job pages and deep pages on the pool; the same bytes")
    func inPlaceOrPool() async throws {
        let h = try APIHarness()
        let service = try await BotrixService(store: h.store, writer: h.writer)
        let job = try await service.createJob(CreateJob(count: 20))
        _ = try await service.claimNext(workerID: "w")
        // Accounts 1–3 carry 3 KiB of account_data each; 4–8 are small. Pages run newest first.
        for n in 1...8 {
            let data: JSONObject =
                n <= 3 ? ["blob": .string(String(repeating: "x", count: 3 * 1024))] : ["n": .int(Int64(n))]
            _ = try await service.recordAccount(
                RecordAccount(
                    jobID: job.id, workerID: "w", email: "user\(n)@example.com", username: "user_\(n)",
                    password: "password-\(n)", birthdate: "1990-05-17", accountData: data))
        }
        let pool = try ReadPool(limit: 1)
        let router = Router(context: BotrixRequestContext.self)
        AccountRoutes(service: service, reads: pool).register(on: router)
        try await Application(router: router).test(.router) { client in
            func get(_ query: String, page: Int = 1, limit: Int, jobID: UUID? = nil, after: UInt64? = nil) async throws
                -> (body: [UInt8], pooled: Bool)
            {
                let before = pool.readsSubmitted
                let body = try await client.execute(uri: "/api/accounts?\(query)", method: .get) { response in
                    #expect(response.status == .ok, "\(query)")
                    return Array(buffer: response.body)
                }
                let status = query.contains("status=pending") ? AccountStatus.pending : nil
                let views = try service.accounts(page: page, limit: limit, status: status, jobID: jobID, after: after)
                #expect(body == Render.list(views) { $0.json() }, "\(query)")
                return (body, pool.readsSubmitted > before)
            }
            // (query, page, limit, job, after, read on the pool)
            let cases: [(String, Int, Int, UUID?, UInt64?, Bool)] = [
                ("limit=5", 1, 5, nil, nil, false),
                ("limit=4&after=9", 1, 4, nil, 9, false),
                ("limit=8", 1, 8, nil, nil, true),  // three 3 KiB rows: past 8 KiB
                ("limit=3&after=6", 1, 3, nil, 6, false),  // 5, 4 and one 3 KiB row
                ("limit=2&job_id=\(job.id.text)", 1, 2, job.id, nil, true),
                ("page=2&limit=2", 2, 2, nil, nil, true),
                ("status=pending&limit=4", 1, 4, nil, nil, false),
            ]
            for (query, page, limit, jobID, after, pooled) in cases {
                let answer = try await get(query, page: page, limit: limit, jobID: jobID, after: after)
                #expect(answer.pooled == pooled, "\(query)")
            }
            // A damaged row on a small page fails the request where it is read: only the
            // bounds send a page to the pool, not any error.
            try h.store.environment.write { txn in
                try txn.put(service.projections.accounts.views, Keys.integer(8), [AccountView.rowVersion, 0, 0])
            }
            let before = pool.readsSubmitted
            let status = try await client.execute(uri: "/api/accounts?limit=2", method: .get) { $0.status }
            #expect(status == .internalServerError && pool.readsSubmitted == before)
        }
        #expect(pool.readsSubmitted == 3)
    }
}
