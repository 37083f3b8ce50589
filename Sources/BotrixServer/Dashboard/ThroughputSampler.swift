import Botrix
import ServiceLifecycle
import Synchronization

/// The overview's throughput charts: every `every` it records four counters the store
/// keeps anyway — the log head, jobs created, accounts recorded, jobs completed — and rates
/// are the differences between samples. Nothing is scanned, and the cost does not depend
/// on how many pages are open.
final class ThroughputSampler: Sendable {
    struct Sample: Sendable {
        var at: ContinuousClock.Instant
        var counters: [Int64]
    }

    /// One chart: a rate per interval, oldest first.
    struct Series {
        var label: String
        var rates: [Double]
        /// The mean rate over the last minute (or what there is of it).
        var now: Double
        var peak: Double
    }

    static let labels = ["Events", "Jobs created", "Accounts recorded", "Jobs completed"]
    let every: Duration
    /// Samples kept: `keep - 1` intervals.
    let keep: Int
    private let samples = Mutex<[Sample]>([])

    init(every: Duration = .seconds(5), keep: Int = 61) {
        self.every = every
        self.keep = keep
    }

    /// Takes a sample when the last is at least `every` old (or there is none).
    func sampleIfDue(_ service: BotrixService) {
        let now = ContinuousClock.now
        let due = samples.withLock { $0.last.map { now - $0.at >= every } ?? true }
        guard due, let status = try? service.status() else { return }
        let counters = [
            Int64(status.head.sequence), status.jobs.total, status.accounts.total,
            status.jobs.byStatus[.completed] ?? 0,
        ]
        samples.withLock { samples in
            // Two callers may have raced past the check: keep one sample per interval.
            if let last = samples.last, now - last.at < every / 2 { return }
            samples.append(Sample(at: now, counters: counters))
            if samples.count > keep { samples.removeFirst(samples.count - keep) }
        }
    }

    func series() -> [Series] {
        let samples = self.samples.withLock { $0 }
        let intervalsPerMinute = max(1, Int((Duration.seconds(60) / every).rounded()))
        return Self.labels.indices.map { index in
            var rates: [Double] = []
            for (earlier, later) in zip(samples, samples.dropFirst()) {
                let seconds =
                    Double((later.at - earlier.at).components.seconds) + 1e-18
                    * Double((later.at - earlier.at).components.attoseconds)
                // Deleted accounts make the total drop: that is no negative throughput.
                let change = max(0, later.counters[index] - earlier.counters[index])
                rates.append(seconds > 0 ? Double(change) / seconds : 0)
            }
            let recent = rates.suffix(intervalsPerMinute)
            let now = recent.isEmpty ? 0 : recent.reduce(0, +) / Double(recent.count)
            return Series(label: Self.labels[index], rates: rates, now: now, peak: rates.max() ?? 0)
        }
    }

    /// SVG polyline points for a 300×60 view box, the newest at the right edge.
    func points(_ series: Series) -> String {
        let slots = max(1, keep - 2)
        let offset = slots - (series.rates.count - 1)
        return series.rates.enumerated().map { index, rate in
            let x = Double(offset + index) * 300 / Double(slots)
            let y = series.peak > 0 ? 58 - rate / series.peak * 54 : 58
            return "\(Int(x.rounded())),\(Int(y.rounded()))"
        }.joined(separator: " ")
    }

    /// How long the charts reach back, in words.
    var window: String { DashboardFormat.duration(seconds: Double((every * (keep - 1)).components.seconds)) }
}

/// Samples throughput on schedule while the server runs, so the charts have history when a
/// page opens.
struct ThroughputSamplerService: Service {
    let sampler: ThroughputSampler
    let service: BotrixService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                sampler.sampleIfDue(service)
                try? await Task.sleep(for: sampler.every)
            }
        }
    }
}
