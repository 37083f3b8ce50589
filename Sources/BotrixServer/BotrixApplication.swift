public import Botrix
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Builds the HTTP application over an open service (see ``BotrixConfiguration/openService(leaseClock:whenOpened:onBatch:)``). Kept apart from
/// `botrix serve` so tests drive the very same application through HummingbirdTesting.
public enum BotrixApplication {
    public static func build(
        configuration: BotrixConfiguration, service: BotrixService, logger: Logger,
        metrics: ServerMetrics = ServerMetrics()
    ) async throws -> some ApplicationProtocol {
        let development = configuration.serverEnvironment == .development
        let access = AccessPolicy(keys: try service.keys(), development: development)
        if try !development && !access.keys.hasKeys() { throw ServerSecurityError.noKeysInProduction }
        let openAtStart = access.isOpen
        let host = configuration.serverHost ?? (openAtStart ? "127.0.0.1" : "0.0.0.0")
        if openAtStart {
            logger.warning(
                "NO API KEYS: the API is OPEN to anyone who can reach \(host) (SERVER_ENV=development)\(configuration.serverHost == nil ? ", so it listens on 127.0.0.1 only (set SERVER_HOST to choose)" : ""). Create a key with `botrix keys create --scope admin`: it takes effect at once."
            )
        }
        let sampler = ThroughputSampler()
        let router = try makeRouter(
            service: service, configuration: configuration, metrics: metrics, access: access, sampler: sampler)
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        ConnectionDeadlines(
                            bodyDeadline: .seconds(Int64(configuration.bodyTimeoutSeconds) + 2),
                            writeStall: .seconds(Int64(configuration.idleTimeoutSeconds)))
                    ],
                    idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: .init(
                address: .hostname(host, port: configuration.serverPort),
                serverName: "Botrix/\(BotrixVersion.current)",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)),
            services: [
                WriterService(service: service),
                LeaseMonitorService(service: service, logger: logger),
                IdempotencySweepService(service: service, logger: logger),
                ReaderMaintenanceService(
                    service: service, every: .seconds(configuration.readerCheckSeconds), logger: logger),
                ThroughputSamplerService(sampler: sampler, service: service),
                PartnerMaintenanceService(service: service, every: .seconds(60), logger: logger),
            ],
            logger: logger)
    }

    /// Every route behind the middleware stack. Outermost the request id (on every answer),
    /// then the access log (one line per answer, once it is complete), metrics and CORS, then
    /// the error middleware that turns errors into answers — so 4xx and 5xx are logged,
    /// counted and carry CORS headers — then auth and limits.
    /// The dashboard (`/ui`) has its own sign-in and error pages inside that stack.
    /// Throws only when a dashboard template does not parse (a broken build).
    public static func makeRouter(
        service: BotrixService, configuration: BotrixConfiguration, metrics: ServerMetrics, access: AccessPolicy
    ) throws -> Router<BotrixRequestContext> {
        try makeRouter(
            service: service, configuration: configuration, metrics: metrics, access: access,
            sampler: ThroughputSampler())
    }

    static func makeRouter(
        service: BotrixService, configuration: BotrixConfiguration, metrics: ServerMetrics, access: AccessPolicy,
        sampler: ThroughputSampler, streams: StreamSlots? = nil
    ) throws -> Router<BotrixRequestContext> {
        let router = Router(context: BotrixRequestContext.self)
        router.add(middleware: RequestIDMiddleware(bodyTimeout: .seconds(configuration.bodyTimeoutSeconds)))
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: metrics.middleware())
        router.add(middleware: CORSPolicy(allowed: Set(configuration.corsAllowedOrigins)))
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthMiddleware(access: access, metricsPublic: configuration.metricsPublic))
        router.add(
            middleware: RateLimit(
                kind: .writes, rate: configuration.rateLimitWritesPerSecond, burst: Double(configuration.rateLimitBurst)
            ))
        router.add(
            middleware: RateLimit(
                kind: .reads, rate: configuration.rateLimitReadsPerSecond,
                burst: Double(configuration.rateLimitReadBurst)))
        // Two threads even on two cores: one slow read must not queue every cheap one.
        let reads = try ReadPool(limit: max(2, System.coreCount - 1))
        HealthRoutes(service: service).register(on: router)
        JobRoutes(service: service, reads: reads).register(on: router)
        AccountRoutes(service: service, reads: reads).register(on: router)
        WorkerRoutes(service: service, metrics: metrics, access: access).register(on: router)
        // One stream limit per key for the API's event streams and the dashboard's live pages.
        let streams = streams ?? StreamSlots(limit: configuration.maxStreamsPerKey)
        AuditRoutes(
            service: service, reads: reads, scanBudget: configuration.readScanBudget, streams: streams, access: access
        ).register(on: router)
        Dashboard(
            service: service, access: access, sessions: DashboardSessions(),
            reads: try ReadPool(limit: 1, queueLimit: 64, name: "botrix-dash"),
            pageLimits: DashboardLimits(
                rate: configuration.dashboardRequestsPerSecond, burst: configuration.dashboardRequestBurst),
            signInLimits: DashboardLimits(
                rate: configuration.dashboardSignInsPerSecond, burst: configuration.dashboardSignInBurst),
            streams: streams,
            sampler: sampler, renderer: try DashboardRenderer(), assets: DashboardAssets(),
            scanBudget: configuration.readScanBudget
        ).register(on: router)
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.render(service: service))))
        }
        return router
    }
}

/// Appends `JobLeaseExpired` for leases that ran out, once a second, until shutdown. A
/// failed round is logged (once per kind of error in a row) and the next round tries again.
struct LeaseMonitorService: Service {
    let service: BotrixService
    let logger: Logger

    func run() async throws {
        let logger = self.logger
        let last = LastError()
        await cancelWhenGracefulShutdown {
            await service.monitorLeases(every: .seconds(1)) { error in
                let summary = "\(error)"
                let repeated = last.summary.withLock { previous in
                    defer { previous = summary }
                    return previous == summary
                }
                if !repeated {
                    logger.error("lease monitor: expiring leases failed", metadata: ["error": "\(summary)"])
                }
            }
        }
    }
}

/// The last error the lease monitor logged, so a lasting failure is not logged every second.
private final class LastError: Sendable {
    let summary = Mutex<String?>(nil)
}

/// Deletes expired idempotent answers a thousand at a time, walking the table once a
/// minute; each step is one short write.
struct IdempotencySweepService: Service {
    let service: BotrixService
    let logger: Logger
    var every: Duration = .seconds(60)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var position: [UInt8]?
            while !Task.isCancelled {
                do {
                    let (deleted, next) = try await service.sweepIdempotentAnswers(after: position)
                    if deleted > 0 { logger.debug("swept \(deleted) expired idempotent answers") }
                    position = next
                    if next != nil { continue }
                } catch {
                    logger.warning("idempotency sweep failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: every)
            }
        }
    }
}

/// Why the server refuses to start.
public enum ServerSecurityError: Error, CustomStringConvertible {
    case noKeysInProduction

    public var description: String {
        "SERVER_ENV=production and no API key exists: create one with `botrix keys create --name ops --scope admin` (it prints the key once), then start again"
    }
}
