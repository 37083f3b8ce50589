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

    /// The bytes of these accounts' stored rows.
    static func storedBytes(_ f: DomainFixture, accounts ids: ClosedRange<Int64>) throws -> Int {
        try f.store.environment.read { txn in
            try ids.reduce(0) { total, id in
                total + (try txn.withValue(f.service.projections.accounts.views, Keys.integer(id)) { $0?.count ?? 0 })
            }
        }
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
            // Where account_data's length and text sit.
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
            // Random bytes changed, one at a time: invalid UTF-8, a broken length, account_data broken or
            // still JSON but not as the writer writes it (a space, keys out of order).
            for _ in 0..<60 {
                var changed = row
                let anywhere = random.next(upTo: 2) == 0
                let at =
                    anywhere
                    ? Int(random.next(upTo: UInt64(row.count)))
                    : data.lowerBound + Int(random.next(upTo: UInt64(data.count)))
                changed[at] = UInt8(truncatingIfNeeded: random.next())
                let view = try? AccountView(row: changed)
                #expect((try? Self.render(changed)) == view.map { $0.json() }, "\(changed)")
            }
        }
    }

    @Test("account_data damaged in place yet still JSON is refused or tidied as the view does it")
    func damagedData() throws {
        // What a reviewer wrote over stored rows: a number past Double's range, a repeated key
        // with spaces, invalid UTF-8 in a key, a lone surrogate; and keys out of order, a
        // double. Each keeps the row's lengths.
        let cases: [(stored: String, damaged: [UInt8])] = [
            (#"{"p":12345678}"#, Array(#"{"p":1e999999}"#.utf8)),
            (#"{"a":{},"spaces":[1,2]}"#, Array(#"{"a":{},"a"     :[1,2]}"#.utf8)),
            (#"{"invalid_utf8":1}"#, [UInt8](#"{""#.utf8) + [0xFF] + Array(#"nvalid_utf8":1}"#.utf8)),
            (#"{"k\u0001":12}"#, Array(#"{"\ud800":100}"#.utf8)),
            (#"{"b":1,"c":2}"#, Array(#"{"c":1,"b":2}"#.utf8)),
            (#"{"n":100}"#, Array(#"{"n":1.0}"#.utf8)),
        ]
        for (stored, damaged) in cases {
            let data = try JSONReader.object(Array(stored.utf8))
            let account = AccountView(
                id: 7, email: "a@b.co", username: "u", password: "p", birthdate: "1990-01-01", verificationCode: nil,
                status: .pending, jobID: UUID(), accountData: data, createdAt: "c", updatedAt: "u", version: 1)
            var row = account.row()
            let text = JSONWriting.value(.object(data))
            try #require(text.count == damaged.count, "\(stored)")
            let at = try #require(row.firstRange(of: text)).lowerBound
            row.replaceSubrange(at..<(at + text.count), with: damaged)
            let view = try? AccountView(row: row)
            #expect((try? Self.render(row)) == view.map { $0.json() }, "\(String(decoding: damaged, as: UTF8.self))")
        }
    }

    @Test("text the writer-form check accepts is what the writer writes for it")
    func writerForm() throws {
        var random = SplitMix(seed: 16)
        var accepted = 0
        for _ in 0..<600 {
            let value = CodingTests().randomValue(&random, depth: 0)
            guard case .object = value else { continue }
            var text = JSONWriting.value(value)
            if random.next(upTo: 3) == 0 {  // sometimes a byte changed, or one inserted
                let at = Int(random.next(upTo: UInt64(text.count)))
                let choices = Array(#" ,:"{}[]\0-19.eu"#.utf8)
                let byte = choices[Int(random.next(upTo: UInt64(choices.count)))]
                if random.next(upTo: 2) == 0 { text[at] = byte } else { text.insert(byte, at: at) }
            }
            guard text.withUnsafeBufferPointer({ JSONWriterForm.isObject($0) }) else { continue }
            accepted += 1
            #expect(JSONWriting.value(try JSONReader.parse(text)) == text, "\(String(decoding: text, as: UTF8.self))")
        }
        #expect(accepted > 20, "\(accepted)")
        // The writer's own output in the narrow form it recognizes: ASCII, integers, its escapes.
        let plain: JSONValue = .object([
            "a": .int(.min), "b": .string("q\"\\\n\u{1}\t\u{7f}"), "c": .array([.null, .bool(true), .object([:])]),
        ])
        #expect(JSONWriting.value(plain).withUnsafeBufferPointer { JSONWriterForm.isObject($0) })
        // Valid JSON the writer would write otherwise, or that the check leaves to the parser.
        for other in [
            #"{"a":-0}"#, #"{"a":1.5}"#, #"{"a" :1}"#, #"{"b":1,"a":2}"#, #"{"a":1,"a":2}"#, #"{"a":"\u0041"}"#,
            #"{"a":"\/"}"#, #"{"a":"\u000a"}"#, #"{"a":"\u001F"}"#, #"{"a":9223372036854775808}"#, #"{"a":1e2}"#,
            #"{"é":1}"#, #"{"a":"\b"}"#, #"{"a\n":1}"#, #" {"a":1}"#, #"[1]"#, #"{"a":[1 ]}"#,
        ] {
            #expect(!Array(other.utf8).withUnsafeBufferPointer { JSONWriterForm.isObject($0) }, "\(other)")
        }
        for own in [#"{"a":-9223372036854775808,"b":"\u001f\u0000\"","c":{"d":[false,null,0]}}"#, "{}"] {
            #expect(Array(own.utf8).withUnsafeBufferPointer { JSONWriterForm.isObject($0) }, "\(own)")
            #expect(JSONWriting.value(try JSONReader.parse(Array(own.utf8))) == Array(own.utf8))
        }
    }

    @Test("a page read within a bound stops at its stored bytes and at its rendered bytes")
    func bounded() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 10))
        _ = try await f.service.claimNext(workerID: "w")
        for n in 0..<4 { _ = try await f.service.recordAccount(account(job.id, worker: "w", n)) }
        let page = try f.service.accountsJSON(limit: 10)
        let rendered = page.items.reduce(0) { $0 + $1.count }
        let stored = try Self.storedBytes(f, accounts: 1...4)
        try #require(stored > 0 && rendered > stored, "stored \(stored), rendered \(rendered)")
        #expect(try f.service.accountsJSON(limit: 10, within: stored - 1) == nil)
        #expect(try f.service.accountsJSON(limit: 10, within: rendered - 1) == nil)
        #expect(try f.service.accountsJSON(limit: 10, within: rendered)?.items == page.items)
        // account_data the writer-form check leaves to the parser (doubles) spends a budget of
        // its own, a sixty-fourth of the bound: 1 KiB of it needs a bound of 64 KiB.
        let doubles = JSONObject(uniqueKeysWithValues: (0..<100).map { ("d\($0)", JSONValue.double(0.5)) })
        let ints = JSONObject(uniqueKeysWithValues: (0..<100).map { ("d\($0)", JSONValue.int(500)) })
        for (n, data) in [(10, doubles), (11, ints)] {
            _ = try await f.service.recordAccount(
                RecordAccount(
                    jobID: job.id, workerID: "w", email: "user\(n)@example.com", username: "user_\(n)",
                    password: "pw-\(n)-long-enough", birthdate: "1990-05-17", accountData: data))
            let size = JSONWriting.value(.object(data)).count
            let fits = try f.service.accountsJSON(limit: 1, within: 8 * 1024)
            #expect((fits == nil) == (n == 10), "size \(size)")
            if n == 10 {
                #expect(
                    try f.service.accountsJSON(limit: 1, within: 64 * size)?.items
                        == (try f.service.accountsJSON(limit: 1)).items)
            }
        }
    }

    @Test("a page whose stored rows pass the bound is refused within it even when its answer fits")
    func storedBound() async throws {
        let f = try await DomainFixture.make()
        let job = try await f.service.createJob(CreateJob(count: 10))
        _ = try await f.service.claimNext(workerID: "w")
        // A long sealed password and a verification code: stored, never listed.
        for n in 0..<3 {
            _ = try await f.service.recordAccount(
                RecordAccount(
                    jobID: job.id, workerID: "w", email: "u\(n)@x.io", username: "user\(n)",
                    password: String(repeating: "p", count: 128), birthdate: "1990-05-17",
                    verificationCode: String(repeating: "c", count: 64)))
        }
        let page = try f.service.accountsJSON(limit: 10)
        let rendered = page.items.reduce(0) { $0 + $1.count }
        let stored = try Self.storedBytes(f, accounts: 1...3)
        try #require(stored > rendered, "stored \(stored), rendered \(rendered)")
        #expect(try f.service.accountsJSON(limit: 10, within: stored - 1) == nil)
        #expect(try f.service.accountsJSON(limit: 10, within: stored)?.items == page.items)
        // A page reached by skipping entries is never read within a bound, however small.
        #expect(try f.service.accountsJSON(page: 2, limit: 1, within: 1 << 20) == nil)
        #expect(try f.service.accountsJSON(limit: 1, after: 3, within: 1 << 20)?.items.count == 1)
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
