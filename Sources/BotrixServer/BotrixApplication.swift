public import Botrix
public import EventLog
public import Hummingbird
public import Logging
import ServiceLifecycle

/// Builds the HTTP application over an open store and its writer. Kept apart from
/// `botrix serve` so tests drive the very same application through HummingbirdTesting.
public enum BotrixApplication {
    public static func build(
        configuration: BotrixConfiguration, store: BotrixStore, writer: GroupCommitWriter, logger: Logger,
        metrics: ServerMetrics = ServerMetrics()
    ) async throws -> some ApplicationProtocol {
        let service = try await BotrixService(
            store: store, writer: writer,
            settings: .init(
                leaseSeconds: configuration.leaseSeconds, maxAttempts: configuration.maxAttempts,
                maxJobCount: configuration.maxJobCount))
        let router = makeRouter(service: service, configuration: configuration, metrics: metrics)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.serverHost, port: configuration.serverPort),
                serverName: "Botrix/\(BotrixVersion.current)"),
            services: [WriterService(writer: writer), LeaseMonitorService(service: service)],
            logger: logger)
    }

    /// Every route of SPEC.md behind the middleware stack (errors and request ids
    /// outermost, then CORS, metrics and request logs).
    public static func makeRouter(
        service: BotrixService, configuration: BotrixConfiguration, metrics: ServerMetrics
    ) -> Router<BotrixRequestContext> {
        let router = Router(context: BotrixRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: CORSPolicy(allowed: Set(configuration.corsAllowedOrigins)))
        router.add(middleware: metrics.middleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        HealthRoutes(service: service).register(on: router)
        JobRoutes(service: service).register(on: router)
        AccountRoutes(service: service).register(on: router)
        WorkerRoutes(service: service).register(on: router)
        AuditRoutes(service: service).register(on: router)
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render(service: service))))
        }
        return router
    }
}

/// Appends `JobLeaseExpired` for leases that ran out, once a second, until shutdown.
struct LeaseMonitorService: Service {
    let service: BotrixService

    func run() async throws {
        await cancelWhenGracefulShutdown { await service.monitorLeases(every: .seconds(1)) }
    }
}
