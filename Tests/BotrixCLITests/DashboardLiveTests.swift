import Foundation
import TestSupport
import Testing

/// The dashboard's live feed on a running server: "follow" delivers a backlog longer than
/// one read, and a fast-growing log is announced at most once a second.
@Suite("Dashboard live feed", .serialized)
struct DashboardLiveTests {
    @Test("following from the start delivers every event of a backlog longer than one read, in order")
    func backlog() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(binary: binary, database: folder.file("live.mdb"))
        let url = "\(server.baseURL)/api/jobs"
        let created = try curl(
            ["-o", "/dev/null", "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"count":1}"#]
                + Array(repeating: url, count: 250))
        #expect(created.status == 0)
        let feed = try await onOwnThread {
            try curl(["--max-time", "6", "\(server.baseURL)/ui/live?events=1&after=0"]).output
        }
        let sequences = feed.split(separator: "\n").filter { $0.hasPrefix("data: {\"actor\"") }.compactMap { line in
            line.range(of: #""seq":"#).map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 }
        }
        #expect(sequences == Array(1...250), "got \(sequences.count) events, last \(sequences.last ?? 0)")
        #expect(feed.contains("event: head\ndata: {\"head\":250}"))
        #expect(server.stop())
    }

    @Test("a log growing all the time is announced at most about once a second")
    func headAnnouncementsAreSpaced() async throws {
        let binary = try #require(builtExecutable("botrix"))
        let folder = TemporaryFolder()
        let server = try ServerProcess(
            binary: binary, database: folder.file("live.mdb"),
            environment: ["RATE_LIMIT_WRITES_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"])
        let url = "\(server.baseURL)/api/jobs"
        let base = server.baseURL
        async let feed = onOwnThread { try curl(["--max-time", "3", "\(base)/ui/live"]).output }
        // Writes for longer than the feed listens, bounded in count.
        let writes = try await onOwnThread {
            try curl(
                [
                    "-o", "/dev/null", "--max-time", "4", "-X", "POST", "-H", "Content-Type: application/json", "-d",
                    #"{"count":1}"#,
                ] + Array(repeating: url, count: 3000))
        }
        let text = try await feed
        // The heads announced, in order: fewer announcements than events (they were
        // coalesced), and not more than about one a second of the 3 s.
        let heads = text.components(separatedBy: "event: head\ndata: {\"head\":").dropFirst().compactMap {
            Int($0.prefix { $0.isNumber })
        }
        #expect(heads.count >= 1 && heads.count <= 5, "\(heads.count) head messages in 3 s (writes: \(writes.status))")
        if let first = heads.first, let last = heads.last, last - first > 10 {
            #expect(heads.count < last - first, "one announcement per event: \(heads)")
        }
        #expect(server.stop())
    }
}
