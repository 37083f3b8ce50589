import Dispatch
import Synchronization

/// Token buckets by owner (an API key, "open", a client address): `rate` tokens a second up
/// to `burst`. The API's rate limits and the dashboard's limits are both made of these.
final class TokenBuckets: Sendable {
    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: Double)]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes `cost` tokens (at most the burst) for `owner`: 0 when taken, else the seconds
    /// until there would be enough. Owners whose buckets refilled are forgotten once more
    /// than 10,000 are known, so addresses cannot grow the table without bound.
    func take(_ owner: String, cost: Double = 1) -> Double {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        return buckets.withLock { buckets -> Double in
            if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.at < burst / rate } }
            var bucket = buckets[owner] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            defer { buckets[owner] = bucket }
            let cost = min(cost, burst)
            guard bucket.tokens >= cost else { return (cost - bucket.tokens) / rate }
            bucket.tokens -= cost
            return 0
        }
    }
}
