import Botrix
import ServiceLifecycle

/// Runs beside the HTTP server in one service group. On SIGTERM/SIGINT the server stops
/// first (services shut down in reverse order), finishing in-flight requests; then this
/// service lets the writer commit what is queued and stop, so no acknowledged write is lost,
/// and flushes the file (which `nosync` / `nometasync` leave to the OS).
struct WriterService: Service {
    let service: BotrixService

    func run() async throws {
        try? await gracefulShutdown()
        try await service.shutdown()
    }
}
