import Foundation
import JSONCoding
import TestSupport
import Testing

@testable import Botrix

/// List pages render accounts straight from their rows (`AccountRowJSON`); these hold that
/// fast path to the reference one, `AccountView(row:).json()`, byte for byte.
@Suite("Account JSON from rows")
struct AccountRowJSONTests {
    static func text(_ random: inout SplitMix) -> String {
        let pieces = ["a", "Z", "0", "@", ".", "é", "😀", "\"", "\\", "\n", "\t", "\u{1}", "\u{7f}", "/", " ", "ñ"]
        return String(
            (0..<Int(random.next(upTo: 14))).map { _ in pieces[Int(random.next(upTo: UInt64(pieces.count)))] }
                .joined())
    }

    static func randomAccount(_ random: inout SplitMix) -> AccountView {
        var data: JSONObject = [:]
        for n in 0..<Int(random.next(upTo: 5)) {
            data["k\(n)\(text(&random))"] = CodingTests().randomValue(&random, depth: 1)
        }
        return AccountView(
            id: Int64(bitPattern: random.next()) >> Int64(random.next(upTo: 63)), email: text(&random),
            username: text(&random), password: text(&random), birthdate: text(&random),
            verificationCode: random.next(upTo: 2) == 0 ? nil : text(&random),
            status: AccountStatus.allCases[Int(random.next(upTo: UInt64(AccountStatus.allCases.count)))],
            jobID: UUID(), accountData: data, createdAt: text(&random), updatedAt: text(&random),
            version: random.next() >> random.next(upTo: 64))
    }

    static func render(_ row: [UInt8], _ status: AccountStatus? = nil) throws -> [UInt8]? {
        try row.withUnsafeBytes { try AccountRowJSON.render($0, status: status) }
    }

    @Test("random accounts render byte for byte as their views do, and only in their own status")
    func equalsTheView() throws {
        var random = SplitMix(seed: 14)
        for _ in 0..<500 {
            let account = Self.randomAccount(&random)
            let row = account.row()
            let reference = try AccountView(row: row).json()
            #expect(try Self.render(row) == reference, "\(account)")
            #expect(try Self.render(row, account.status) == reference)
            for other in AccountStatus.allCases where other != account.status {
                #expect(try Self.render(row, other) == nil)
            }
        }
    }

    @Test("a damaged row is refused wherever the view refuses it, and rendered as the view is otherwise")
    func damagedRows() throws {
        var random = SplitMix(seed: 15)
        for _ in 0..<40 {
            let account = Self.randomAccount(&random)
            let row = account.row()
            // Where account_data's length and text sit: a change there that leaves valid JSON
            // (a space, a key out of order) is served as stored, where the view would tidy it.
            let before =
                [account.email, account.username, account.password, account.birthdate, account.status.rawValue]
                .reduce(1 + 8 + 16 + 1) { $0 + 4 + $1.utf8.count }
                + (account.verificationCode.map { 4 + $0.utf8.count } ?? 0)
            let data = before..<(before + 4 + JSONWriting.value(.object(account.accountData)).count)
            for length in 0..<row.count {
                let cut = Array(row.prefix(length))
                let viewRefuses = (try? AccountView(row: cut)) == nil
                #expect(viewRefuses && (try? Self.render(cut)) == nil, "cut at \(length) of \(row.count)")
            }
            // account_data that is no longer JSON (its length unchanged) is refused by both.
            var broken = row
            broken[data.lowerBound + 4] = UInt8(ascii: "x")
            #expect((try? AccountView(row: broken)) == nil && (try? Self.render(broken)) == nil)
            // Any one byte changed: invalid UTF-8, a broken length, a broken account_data.
            for _ in 0..<60 {
                var changed = row
                let at = Int(random.next(upTo: UInt64(row.count)))
                guard !data.contains(at) else { continue }
                changed[at] = UInt8(truncatingIfNeeded: random.next())
                let view = try? AccountView(row: changed)
                #expect((try? Self.render(changed)) == view.map { $0.json() }, "\(changed)")
            }
        }
    }

    @Test("pages read as JSON equal pages of views rendered, for every filter and cursor")
    func pagesEqual() async throws {
        let f = try await DomainFixture.make()
        let jobs = [
            try await f.service.createJob(CreateJob(count: 50)), try await f.service.createJob(CreateJob(count: 50)),
        ]
        for (index, job) in jobs.enumerated() {
            _ = try await f.service.claimNext(workerID: "w\(index)")
            for n in 0..<12 {
                _ = try await f.service.recordAccount(account(job.id, worker: "w\(index)", n + 100 * index))
            }
        }
        for id in stride(from: 1, through: 24, by: 3) {
            _ = try await f.service.updateAccount(
                UpdateAccount(accountID: Int64(id), status: .active, verificationCode: "code-\(id)"))
        }
        for status in [nil] + AccountStatus.allCases.map(Optional.some) {
            for job in [nil] + jobs.map({ Optional.some($0.id) }) {
                var after: UInt64?
                var pages = 0
                repeat {
                    let views = try f.service.accounts(limit: 5, status: status, jobID: job, after: after)
                    let json = try f.service.accountsJSON(limit: 5, status: status, jobID: job, after: after)
                    #expect(json.items == views.items.map { $0.json() })
                    #expect(json.total == views.total && json.next == views.next && json.examined == views.examined)
                    after = views.next
                    pages += 1
                } while after != nil && pages < 10
                let second = try f.service.accountsJSON(page: 2, limit: 4, status: status, jobID: job)
                #expect(
                    second.items
                        == (try f.service.accounts(page: 2, limit: 4, status: status, jobID: job)).items.map {
                            $0.json()
                        })
            }
        }
        #expect(try f.service.accountsJSON(limit: 100).items.count == 24)
    }
}
