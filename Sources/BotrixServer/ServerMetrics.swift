public import Botrix
import CoreMetrics
import Foundation
import Hummingbird
public import Prometheus
import Synchronization

/// Prometheus metrics through swift-metrics: requests (count and duration by route,
/// method and status) and the log (events appended, operations per commit, commit
/// latency, failed batches, queue depth, leases). One registry per application, so
/// tests read their own; `botrix serve` also bootstraps swift-metrics with it.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let factory: PrometheusMetricsFactory
    private let events: CoreMetrics.Counter
    private let batches: CoreMetrics.Counter
    private let failedBatches: CoreMetrics.Counter
    private let batchSize: CoreMetrics.Recorder
    private let commitSeconds: CoreMetrics.Timer

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        self.factory = factory
        events = CoreMetrics.Counter(label: "botrix_events_appended_total", factory: factory)
        batches = CoreMetrics.Counter(label: "botrix_commits_total", factory: factory)
        failedBatches = CoreMetrics.Counter(label: "botrix_commit_failures_total", factory: factory)
        batchSize = CoreMetrics.Recorder(label: "botrix_operations_per_commit", aggregate: true, factory: factory)
        commitSeconds = CoreMetrics.Timer(label: "botrix_commit_duration_seconds", factory: factory)
    }

    /// Called by the writer after every batch.
    public func record(_ report: CommitReport) {
        if report.failed {
            failedBatches.increment()
            return
        }
        batches.increment()
        events.increment(by: report.events)
        batchSize.record(report.operations)
        commitSeconds.recordNanoseconds(Int64(report.commitSeconds * 1e9))
    }

    /// Prometheus text, with gauges read from the projections' counters at scrape time.
    func render(service: BotrixService) -> [UInt8] {
        let status = try? service.status()
        if let stats = status?.jobs {
            for (priority, depth) in stats.queueDepthByPriority {
                CoreMetrics.Gauge(
                    label: "botrix_queue_depth", dimensions: [("priority", String(priority))], factory: factory
                )
                .record(depth)
            }
            CoreMetrics.Gauge(label: "botrix_active_leases", factory: factory).record(stats.activeLeases)
            CoreMetrics.Gauge(label: "botrix_retries_waiting", factory: factory).record(stats.retriesWaiting)
            for (status, count) in stats.byStatus {
                CoreMetrics.Gauge(label: "botrix_jobs", dimensions: [("status", status.rawValue)], factory: factory)
                    .record(count)
            }
        }
        if let status {
            CoreMetrics.Gauge(label: "botrix_log_head", factory: factory).record(Int64(status.head.sequence))
        }
        // Readers and map figures need no read transaction: they are reported even when the
        // reader table is full, which is when they matter most.
        let readers = service.readers()
        CoreMetrics.Gauge(label: "botrix_lmdb_readers", factory: factory).record(readers.active)
        CoreMetrics.Gauge(label: "botrix_lmdb_oldest_reader_lag_commits", factory: factory).record(readers.oldestLag)
        CoreMetrics.Gauge(label: "botrix_lmdb_oldest_reader_age_seconds", factory: factory)
            .record(readers.oldestAgeSeconds)
        let figures = service.storageFigures
        CoreMetrics.Gauge(label: "botrix_lmdb_map_used_bytes", factory: factory).record(figures.usedBytes)
        CoreMetrics.Gauge(label: "botrix_lmdb_map_size_bytes", factory: factory).record(figures.mapSize)
        let writer = service.writerStatus
        CoreMetrics.Gauge(label: "botrix_writer_queued", factory: factory).record(writer.queued)
        CoreMetrics.Gauge(label: "botrix_writer_oldest_waiting_seconds", factory: factory)
            .record(writer.oldestWaitingSeconds)
        CoreMetrics.Gauge(label: "botrix_writer_writable", factory: factory).record(writer.writable() ? 1 : 0)
        CoreMetrics.Gauge(label: "botrix_claims_waiting", factory: factory).record(service.claimWaiters.count)
        if let age = try? service.oldestPendingAge() {
            CoreMetrics.Gauge(label: "botrix_oldest_pending_job_age_seconds", factory: factory).record(age)
        }
        totals.withLock { seen in
            let now = (service.queueTotals.leaseExpiries, service.queueTotals.retries)
            CoreMetrics.Counter(label: "botrix_lease_expiries_total", factory: factory).increment(by: now.0 - seen.0)
            CoreMetrics.Counter(label: "botrix_job_retries_total", factory: factory).increment(by: now.1 - seen.1)
            seen = now
        }
        return registry.emitToBuffer()
    }

    /// The queue totals already exported, so each scrape adds only what is new.
    private let totals = Mutex<(Int, Int)>((0, 0))

    /// How long claims that waited for work waited before they got a job (or gave up).
    public func recordClaimWait(seconds: Double, claimed: Bool) {
        CoreMetrics.Timer(
            label: "botrix_claim_wait_seconds", dimensions: [("outcome", claimed ? "claimed" : "empty")],
            factory: factory
        ).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Counts and times every request by route pattern, method and status.
    func middleware() -> RequestMetrics { RequestMetrics(factory: factory, cache: requestMetrics) }

    private let requestMetrics = RequestMetrics.Cache()
}

/// Request metrics by route pattern (not raw path, so ids do not explode the labels).
struct RequestMetrics: RouterMiddleware {
    typealias Context = BotrixRequestContext
    let factory: PrometheusMetricsFactory
    let cache: Cache

    /// Metric handles by label set, made once: creating them costs a registry lookup.
    final class Cache: Sendable {
        let handles = Mutex<[String: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = DispatchTime.now().uptimeNanoseconds
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        // Any token is a method to the parser: an unknown one is "other", so clients cannot
        // grow the label sets (and the handles kept for them) without bound.
        let method = Self.knownMethods.contains(request.method) ? request.method.rawValue : "other"
        let status = response.status.code
        let key = "\(route) \(method) \(status)"
        let (counter, timer) = cache.handles.withLock { handles in
            if let made = handles[key] { return made }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let made = (
                CoreMetrics.Counter(label: "botrix_http_requests_total", dimensions: dimensions, factory: factory),
                CoreMetrics.Timer(
                    label: "botrix_http_request_duration_seconds", dimensions: Array(dimensions.prefix(2)),
                    factory: factory)
            )
            handles[key] = made
            return made
        }
        counter.increment()
        timer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        return response
    }

    static let knownMethods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]
}
