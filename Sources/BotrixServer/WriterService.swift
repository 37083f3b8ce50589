import EventLog
import ServiceLifecycle

/// Runs beside the HTTP server in one service group. On SIGTERM/SIGINT the server stops
/// first (services shut down in reverse order), finishing in-flight requests; then this
/// service lets the writer commit what is queued and stop, so no acknowledged write is lost.
struct WriterService: Service {
    let writer: GroupCommitWriter

    func run() async throws {
        try? await gracefulShutdown()
        await writer.shutdown()
    }
}
