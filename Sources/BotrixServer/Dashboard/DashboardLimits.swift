import HTTPTypes

/// The dashboard's limits, apart from the API's: pages and live regions per session owner (a
/// key, or open mode), weighted by what they read, and failed sign-ins per client address.
/// An empty bucket answers an HTML 429 page with `Retry-After`. The API's own limits do not
/// count `/ui` requests, so a flood of sign-in attempts cannot use up a key's API budget,
/// and the other way round.
struct DashboardLimits: Sendable {
    let buckets: TokenBuckets

    init(rate: Double, burst: Double) { buckets = TokenBuckets(rate: rate, burst: burst) }

    /// Takes `cost` tokens for `owner`, or throws the 429 page.
    func take(_ owner: String, cost: Double = 1, what: String) throws {
        let wait = buckets.take(owner, cost: cost)
        guard wait == 0 else {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw DashboardProblem(
                status: .tooManyRequests, heading: "Slow down",
                detail: "more than \(Int(buckets.rate)) \(what) a second: wait \(seconds) s, then reload",
                headers: [.retryAfter: String(seconds)])
        }
    }
}
