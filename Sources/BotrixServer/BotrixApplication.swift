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
        let development = configuration.serverEnvironment == .development
        var keySources: [String: String] = [:]
        keySources["BOTRIX_MASTER_KEY"] = configuration.masterKey
        keySources["BOTRIX_MASTER_KEY_FILE"] = configuration.masterKeyFile
        let (secrets, source) = try SecretBox.resolve(
            environment: keySources, dataFile: store.environment.path, development: development)
        let service = try await BotrixService(
            store: store, writer: writer,
            settings: .init(
                leaseSeconds: configuration.leaseSeconds, maxAttempts: configuration.maxAttempts,
                maxJobCount: configuration.maxJobCount),
            secrets: secrets)
        // Only now: the service checked the key against the data file and its keyring.
        logger.info(
            "account secrets sealed with the master key from \(source) (fingerprint \(secrets.fingerprint)); keyring \(Keyring(dataFile: store.environment.path).path)"
        )
        let keys = try APIKeyStore(environment: store.environment)
        let open = try !keys.hasKeys()
        if open {
            guard development else { throw ServerSecurityError.noKeysInProduction }
            logger.warning(
                "NO API KEYS: the API is OPEN to anyone who can reach it (SERVER_ENV=development). Create one with `botrix keys create --scope admin`."
            )
        }
        let router = makeRouter(
            service: service, configuration: configuration, metrics: metrics, keys: keys, open: open)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.serverHost, port: configuration.serverPort),
                serverName: "Botrix/\(BotrixVersion.current)"),
            services: [
                WriterService(writer: writer, environment: store.environment), LeaseMonitorService(service: service),
                ReaderMaintenanceService(
                    environment: store.environment, every: .seconds(configuration.readerCheckSeconds), logger: logger),
            ],
            logger: logger)
    }

    /// Every route of SPEC.md behind the middleware stack (errors and request ids
    /// outermost, then CORS, metrics and request logs).
    public static func makeRouter(
        service: BotrixService, configuration: BotrixConfiguration, metrics: ServerMetrics, keys: APIKeyStore,
        open: Bool
    ) -> Router<BotrixRequestContext> {
        let router = Router(context: BotrixRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: CORSPolicy(allowed: Set(configuration.corsAllowedOrigins)))
        router.add(middleware: metrics.middleware())
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: AuthMiddleware(keys: keys, open: open, metricsPublic: configuration.metricsPublic))
        router.add(
            middleware: WriteRateLimit(
                rate: configuration.rateLimitWritesPerSecond, burst: Double(configuration.rateLimitBurst)))
        HealthRoutes(service: service).register(on: router)
        JobRoutes(service: service).register(on: router)
        AccountRoutes(service: service, open: open).register(on: router)
        WorkerRoutes(service: service).register(on: router)
        AuditRoutes(service: service, streams: StreamSlots(limit: configuration.maxStreamsPerKey)).register(on: router)
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

/// Why the server refuses to start.
public enum ServerSecurityError: Error, CustomStringConvertible {
    case noKeysInProduction

    public var description: String {
        "SERVER_ENV=production and no API key exists: create one with `botrix keys create --name ops --scope admin` (it prints the key once), then start again"
    }
}
