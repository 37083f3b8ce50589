import Botrix
import EventLog
import Foundation
import Hummingbird

/// `/health/*`: always open, cheap, and honest about the writer and storage.
struct HealthRoutes: Sendable {
    let writer: GroupCommitWriter
    let startedAt = Date()

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/health/ping") { _, _ in Self.json(#"{"status":"ok"}"#) }
        router.get("/health/live") { _, _ in
            writer.isRunning
                ? Self.json(#"{"status":"alive"}"#)
                : Self.json(#"{"status":"stopping"}"#, status: .serviceUnavailable)
        }
    }

    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
