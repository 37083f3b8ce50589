import Foundation
import HTTPTypes
import Synchronization

/// Token buckets of the dashboard, apart from the API's: pages and fragments per session
/// owner (a key, or open mode), weighted by what they read, and failed sign-in attempts per
/// client address. An empty bucket
/// answers an HTML 429 page with `Retry-After`. The API's own limits do not count `/ui`
/// requests, so a flood of sign-in attempts cannot use up a key's API budget, and the
/// other way round.
final class DashboardLimits: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var at: Double
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    /// Takes `cost` tokens for `owner`, or throws the 429 page.
    func take(_ owner: String, cost: Double = 1, what: String) throws {
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        let wait = buckets.withLock { buckets -> Double in
            if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.at < burst / rate } }
            var bucket = buckets[owner] ?? Bucket(tokens: burst, at: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            defer { buckets[owner] = bucket }
            let cost = min(cost, burst)
            guard bucket.tokens >= cost else { return (cost - bucket.tokens) / rate }
            bucket.tokens -= cost
            return 0
        }
        guard wait == 0 else {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw DashboardProblem(
                status: .tooManyRequests, heading: "Slow down",
                detail: "more than \(Int(rate)) \(what) a second: wait \(seconds) s, then reload",
                headers: [.retryAfter: String(seconds)])
        }
    }
}
