import Foundation
import JSONCoding
import Testing

@testable import Botrix
@testable import BotrixServer

/// The dashboard's small parts: form decoding, where sign-in may send you, how secrets are
/// dropped from data, session tokens, and the throughput charts.
@Suite("Dashboard parts")
struct DashboardPartsTests {
    @Test("a form body decodes + and percent escapes; the first of a repeated name counts")
    func formParsing() {
        let form = DashboardForm.parse("key=btx_a%2Bb&next=%2Fui%2Fjobs&reason=two+words%21&key=second&empty=&bad=%zz")
        #expect(form["key"] == "btx_a+b" && form["next"] == "/ui/jobs" && form["reason"] == "two words!")
        #expect(form["empty"] == "" && form["bad"] == nil)
    }

    @Test("sign-in only ever sends you to a dashboard path")
    func safeNext() {
        #expect(SafeNext.path("/ui/jobs?status=pending") == "/ui/jobs?status=pending")
        for bad in [nil, "", "/api/jobs", "https://evil.example", "//evil.example", "/ui/\\x", "/ui/a b", "/uix"] {
            #expect(SafeNext.path(bad) == "/ui/", "\(bad ?? "nil")")
        }
    }

    @Test("secret fields are dropped at every depth; what is left is indented JSON with sorted keys")
    func redaction() throws {
        let data = Array(
            #"{"password":"p","b":{"Verification_Code":"c","keep":[{"password":"q","x":1}]},"a":"<s>"}"#.utf8)
        let text = try #require(DashboardFormat.data(data))
        #expect(!text.contains("\"p\"") && !text.contains("\"c\"") && !text.contains("\"q\""))
        #expect(!text.lowercased().contains("password") && !text.lowercased().contains("verification"))
        #expect(text.hasPrefix("{\n  \"a\": \"<s>\",\n  \"b\": {"))
        #expect(DashboardFormat.data(Array(#"{"password":"p"}"#.utf8)) == nil)
    }

    @Test("durations and sizes read as people write them")
    func formats() {
        #expect(DashboardFormat.duration(seconds: 4.4) == "4 s")
        #expect(DashboardFormat.duration(seconds: 200) == "3 min 20 s")
        #expect(DashboardFormat.duration(seconds: 7500) == "2 h 5 min")
        #expect(DashboardFormat.duration(seconds: 3 * 86_400) == "3 d")
        #expect(DashboardFormat.timeLeft(until: "2026-01-01T00:00:10Z", nowMilliseconds: 1_767_225_600_000) == "10 s")
        #expect(
            DashboardFormat.timeLeft(until: "2026-01-01T00:00:10Z", nowMilliseconds: 1_767_225_700_000) == "expired")
        #expect(DashboardFormat.bytes(1536) == "1.5 KiB")
    }

    @Test("session tokens: 64 hex digits, kept by hash, compared in full, ended on request")
    func sessions() {
        let store = DashboardSessions()
        let key = APIKey(id: "k", name: "k", scopes: [.read], createdAt: "", revokedAt: nil)
        let (token, session) = store.start(key: key)
        #expect(token.count == 64 && session.handle != token)
        #expect(store.session(token: token)?.handle == session.handle)
        #expect(store.session(token: String(token.dropLast()) + (token.last == "0" ? "1" : "0")) == nil)
        #expect(
            DashboardSessions.same("abc", "abc") && !DashboardSessions.same("abc", "abd")
                && !DashboardSessions.same("", ""))
        store.end(session.handle)
        #expect(store.session(token: token) == nil && store.count == 0)
        let brief = DashboardSessions(idle: .zero)
        let (expiring, _) = brief.start(key: key)
        #expect(brief.session(token: expiring) == nil)
    }

    @Test("a key signing in again and again ends only its own oldest sessions, never another key's")
    func sessionsPerKey() {
        let store = DashboardSessions(perOwner: 3)
        let key = { (id: String) in APIKey(id: id, name: id, scopes: [.read], createdAt: "", revokedAt: nil) }
        let (admin, _) = store.start(key: key("admin"))
        let flood = (0..<50).map { _ in store.start(key: key("reader")).token }
        #expect(store.session(token: admin) != nil, "another key's flood ended the admin's session")
        #expect(flood.prefix(47).allSatisfy { store.session(token: $0) == nil })
        #expect(flood.suffix(3).allSatisfy { store.session(token: $0) != nil })
        #expect(store.count == 4)
    }

    @Test("a colleague on the same key keeps a session in use while another holder signs in again and again")
    func sharedKey() {
        let store = DashboardSessions(perOwner: 3)
        let ops = APIKey(id: "ops", name: "ops", scopes: [.read], createdAt: "", revokedAt: nil)
        let (colleague, session) = store.start(key: ops)
        for _ in 0..<20 {
            _ = store.start(key: ops)
            #expect(store.isLive(session.handle))  // the colleague's open page asks every second
        }
        #expect(store.session(token: colleague) != nil)
    }

    @Test("chart points put the newest rate at the right edge, scaled to the peak")
    func chartPoints() {
        let sampler = ThroughputSampler(every: .seconds(5), keep: 4)
        let series = ThroughputSampler.Series(label: "x", rates: [0, 5, 10], now: 5, peak: 10)
        #expect(sampler.points(series) == "0,58 150,31 300,4")
        #expect(sampler.points(.init(label: "y", rates: [3], now: 3, peak: 3)) == "300,4")
        #expect(sampler.window == "15 s")
    }

    @Test("one replay at a time: a second is refused until the first leaves")
    func replaySlot() {
        let slot = ReplaySlot()
        #expect(slot.enter() && !slot.enter())
        slot.leave()
        #expect(slot.enter())
    }
}
