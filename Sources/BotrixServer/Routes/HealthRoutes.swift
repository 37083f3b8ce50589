import Botrix
import EventLog
import Foundation
import Hummingbird
import JSONCoding

/// `/health/*`: always open and cheap. `/health` reports storage, writer, projection lag,
/// version and uptime (503 when degraded); `ready` says whether to send traffic (503 while
/// stopping); `live` whether the process answers at all; `ping` is the cheapest check.
struct HealthRoutes: Sendable {
    let service: BotrixService
    let startedAt = Date()

    func register(on router: Router<BotrixRequestContext>) {
        router.get("/health/ping") { _, _ in Render.response(.ok, Array(#"{"status":"ok"}"#.utf8)) }
        router.get("/health/live") { _, _ in Render.response(.ok, Array(#"{"status":"alive"}"#.utf8)) }
        router.get("/health/ready") { _, _ in readiness() }
        router.get("/health") { _, _ in report() }
    }

    /// Ready when the store reads and the write path is expected to succeed. Not ready
    /// while stopping, after LMDB gave up on the file (until a restart), while the writer
    /// is stalled (its queue full, or a write waiting 5 s or more), and for a short while
    /// after a batch failed (disk full, I/O); the answer says which and why.
    private func readiness() -> Response {
        let status = service.writerStatus
        let readable = (try? service.head()) != nil
        let writable = status.writable()
        var writer = JSONObjectWriter()
        let state =
            !status.running
            ? "stopped"
            : status.fatal != nil ? "fatal" : status.stalled() ? "stalled" : !writable ? "failing" : "ok"
        writer.string("status", state)
        if let failure = status.failureSummary, state != "ok" || status.consecutiveFailures > 0 {
            writer.string("reason", failure.text)
            writer.bool("out_of_space", failure.outOfSpace)
            writer.int("consecutive_failures", status.consecutiveFailures)
        }
        if status.fatal != nil { writer.string("action", "restart the server, then run `botrix verify`") }
        writer.int("queued", status.queued)
        writer.int("queue_limit", status.maximumQueued)
        writer.raw("oldest_waiting_seconds", JSONWriting.fixed(status.oldestWaitingSeconds, decimals: 3))
        var checks = JSONObjectWriter()
        checks.raw("writer", writer.bytes())
        checks.raw("storage", Array((readable ? #"{"status":"ok"}"# : #"{"status":"failing"}"#).utf8))
        let ready = readable && writable
        var body = JSONObjectWriter()
        body.string("status", ready ? "ready" : "not_ready")
        body.raw("checks", checks.bytes())
        return Render.response(
            ready ? .ok : .serviceUnavailable, body.bytes(), headers: ready ? [:] : [.retryAfter: "5"])
    }

    private func report() -> Response {
        var checks = JSONObjectWriter()
        var healthy = true
        var storage = JSONObjectWriter()
        var lag: UInt64 = 0
        do {
            let status = try service.status()
            lag = status.lag
            storage.string("status", "ok")
            storage.int("head", status.head.sequence)
            storage.int("map_used_bytes", status.storage.usedBytes)
            storage.int("map_size_bytes", status.storage.mapSize)
            storage.int("readers", status.readers.active)
            storage.int("oldest_reader_lag", status.readers.oldestLag)
        } catch {
            healthy = false
            storage.string("status", "failing")
            storage.string("error", "\(error)")
        }
        checks.raw("storage", storage.bytes())
        var writer = JSONObjectWriter()
        let status = service.writerStatus
        writer.string(
            "status",
            !status.running ? "stopped" : status.writable() ? "ok" : status.stalled() ? "stalled" : "failing")
        if let failure = status.failureSummary { writer.string("last_failure", failure.text) }
        writer.int("queued", status.queued)
        if !status.writable() { healthy = false }
        checks.raw("writer", writer.bytes())
        var projections = JSONObjectWriter()
        projections.string("status", lag == 0 ? "ok" : "lagging")
        projections.int("lag_events", lag)
        checks.raw("projections", projections.bytes())
        var body = JSONObjectWriter()
        body.string("status", healthy ? "ok" : "degraded")
        body.raw("checks", checks.bytes())
        body.string("version", BotrixVersion.current)
        body.raw("uptime_seconds", JSONWriting.fixed(Date().timeIntervalSince(startedAt), decimals: 0))
        return Render.response(
            healthy ? .ok : .serviceUnavailable, body.bytes(), headers: healthy ? [:] : [.retryAfter: "5"])
    }
}
