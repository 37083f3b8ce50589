import Botrix
import EventLog
import Foundation
import Hummingbird

/// `/ui/health`: the newest part of the hash chain checked on every load, storage and
/// writer figures, projection checkpoints, version and uptime.
extension Dashboard {
    static let chainTail = 1000

    func healthPage(_ request: Request, _ context: BotrixRequestContext) async throws -> Response {
        let service = self.service
        let (status, chain) = try await reads.run {
            (try service.status(), try service.verifyTail(last: Self.chainTail))
        }
        let writer = service.writerStatus
        var model = base(context, nav: "Health")
        let intact = chain.isIntact
        let healthy = intact && writer.writable()
        model["status"] = healthy ? "ok" : "degraded"
        model["chainChecked"] = String(chain.eventsChecked)
        model["chainClass"] = intact ? "flash ok" : "flash error"
        model["chain"] =
            intact
            ? (status.head.sequence == 0
                ? "Nothing to verify yet: the log is empty (verified: no problem)."
                : "The last \(chain.eventsChecked) events up to the head (\(status.head.sequence), hash \(DashboardFormat.shortHash(status.head.hash))) verified: every hash matches and every link holds.")
            : "NOT verified: \(chain.problems.map(\.description).joined(separator: "; ")). Stop writing and run `botrix verify`."
        model["version"] = BotrixVersion.current
        model["uptime"] = DashboardFormat.duration(seconds: Date().timeIntervalSince(startedAt))
        model["writer"] =
            !writer.running ? "stopped" : writer.writable() ? "ok" : writer.stalled() ? "stalled" : "failing"
        model["queued"] = "\(writer.queued) of \(writer.maximumQueued)"
        if let failure = writer.failureSummary { model["lastFailure"] = failure.text }
        model["sessions"] = String(sessions.count)
        model["head"] = String(status.head.sequence)
        model["lag"] = String(status.lag)
        model["mapUsed"] = DashboardFormat.bytes(status.storage.usedBytes)
        model["mapSize"] = DashboardFormat.bytes(status.storage.mapSize)
        model["mapPercent"] =
            status.storage.mapSize > 0
            ? DashboardFormat.percent(Double(status.storage.usedBytes) / Double(status.storage.mapSize)) : "—"
        if let bytes = status.fileBytes { model["fileSize"] = DashboardFormat.bytes(bytes) }
        model["readers"] = String(status.readers.active)
        model["oldestReaderLag"] = String(status.readers.oldestLag)
        model["checkpoints"] = status.checkpoints.sorted { $0.key < $1.key }.map {
            ["name": $0.key, "sequence": String($0.value)]
        }
        return renderer.page("health", model, status: healthy ? .ok : .serviceUnavailable)
    }
}
