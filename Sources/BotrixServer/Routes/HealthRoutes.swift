import Botrix
import EventLog
import Foundation
import Hummingbird

/// `/health/*`: always open and cheap. `/health` reports storage, writer, projection lag,
/// version and uptime (503 when degraded); `ready` says whether to send traffic (503 while
/// stopping); `live` whether the process answers at all; `ping` is the cheapest check.
struct HealthRoutes: Sendable {
    let service: BotrixService
    let startedAt = Date()

    func register(on router: Router<BotrixRequestContext>) {
        router.get("/health/ping") { _, _ in Render.response(.ok, Array(#"{"status":"ok"}"#.utf8)) }
        router.get("/health/live") { _, _ in Render.response(.ok, Array(#"{"status":"alive"}"#.utf8)) }
        router.get("/health/ready") { _, _ in
            let ready = service.writer.isRunning && (try? service.store.log.head()) != nil
            return Render.response(
                ready ? .ok : .serviceUnavailable,
                Array((ready ? #"{"status":"ready"}"# : #"{"status":"not_ready"}"#).utf8),
                headers: ready ? [:] : [.retryAfter: "5"])
        }
        router.get("/health") { _, _ in report() }
    }

    private func report() -> Response {
        var checks = JSONObjectWriter()
        var healthy = true
        var storage = JSONObjectWriter()
        var lag: UInt64 = 0
        do {
            let (head, checkpoints) = try service.store.environment.read { txn in
                (try service.store.log.head(in: txn).sequence, try service.projections.checkpoints(in: txn))
            }
            lag = head - min(head, checkpoints.values.min() ?? 0)
            storage.string("status", "ok")
            storage.int("head", head)
            let info = service.store.environment.info
            storage.int("map_used_bytes", info.usedBytes)
            storage.int("map_size_bytes", info.mapSize)
        } catch {
            healthy = false
            storage.string("status", "failing")
            storage.string("error", "\(error)")
        }
        checks.raw("storage", storage.bytes())
        var writer = JSONObjectWriter()
        writer.string("status", service.writer.isRunning ? "ok" : "stopped")
        if !service.writer.isRunning { healthy = false }
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
