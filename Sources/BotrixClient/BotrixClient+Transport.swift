import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1

extension BotrixClient {
    /// The largest answer body read (a page of 100 accounts with 16 KiB of data each fits).
    static let maxBodyBytes = 16 << 20

    /// Sends one logical request and retries transient failures (see ``RetryPolicy``).
    ///
    /// A write (POST, PUT, PATCH, DELETE) carries one `Idempotency-Key` on every try: the
    /// caller's, else a fresh one. Answers below 400, and statuses in `accepting`, are
    /// returned; other answers and transport failures are thrown as ``BotrixError`` once
    /// they are not transient or the retries are spent. Cancelling the calling task
    /// throws `CancellationError`.
    /// - Parameter extraTime: added to each try's timeout (a long-poll claim's wait).
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], body: [UInt8]? = nil,
        headers: [(String, String)] = [], options: CallOptions = CallOptions(), extraTime: Duration = .zero,
        accepting: Set<Int> = []
    ) async throws -> HTTPAnswer {
        let request = makeRequest(method, path + URLText.query(query), body: body, headers: headers, options: options)
        let timeout = (options.timeout ?? requestTimeout) + extraTime
        let clock = ContinuousClock()
        let deadline = options.retryFor.map { clock.now + $0 }
        var retriesLeft = options.maxRetries ?? retry.maxRetries
        var attempt = 0
        while true {
            attempt += 1
            let failure: BotrixError
            var retryAfter: Duration?
            switch await once(request, timeout: timeout) {
            case .success(let answer):
                if answer.status < 400 || accepting.contains(answer.status) { return answer }
                failure = answer.error
                retryAfter = answer.retryAfter
            case .failure(let error):
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                failure = .transport(error)
            }
            guard failure.isTransient, options.abort?() != true else { throw failure }
            var delay = retry.delay(afterAttempt: attempt)
            if let retryAfter {
                delay = max(delay, retryAfter + .seconds(Double.random(in: 0...0.25)))
            }
            if let deadline {
                let remaining = deadline - clock.now
                guard remaining > .zero else { throw failure }
                delay = min(delay, max(remaining, .milliseconds(50)))
            } else {
                guard retriesLeft > 0 else { throw failure }
                retriesLeft -= 1
            }
            logger.info("\(method) \(path): \(failure.detail); retry \(attempt) in \(delay)")
            try await pause(delay, abort: options.abort, failure: failure)
        }
    }

    /// The request of every try: headers, body and the write's Idempotency-Key.
    private func makeRequest(
        _ method: HTTPMethod, _ pathAndQuery: String, body: [UInt8]?, headers: [(String, String)],
        options: CallOptions
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + pathAndQuery)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json, application/problem+json")
        request.headers.add(name: "User-Agent", value: userAgent)
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        switch method {
        case .POST, .PUT, .PATCH, .DELETE:
            let key = options.idempotencyKey ?? IdempotencyKey.make()
            if !key.isEmpty { request.headers.add(name: "Idempotency-Key", value: key) }
        default:
            break
        }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        return request
    }

    /// One try: the answer with its body read whole, or why there was none.
    private func once(_ request: HTTPClientRequest, timeout: Duration) async -> Result<HTTPAnswer, any Error> {
        do {
            let response = try await httpClient.execute(request, timeout: timeout.timeAmount)
            let buffer = try await response.body.collect(upTo: Self.maxBodyBytes)
            let answer = HTTPAnswer(
                status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
            return .success(answer)
        } catch {
            return .failure(error)
        }
    }

    /// Waits `delay` before a retry, in short steps so that `abort` ends the wait: then
    /// `failure` is thrown. Task cancellation throws `CancellationError`.
    private func pause(_ delay: Duration, abort: (@Sendable () -> Bool)?, failure: BotrixError) async throws {
        guard let abort else {
            try await Task.sleep(for: delay)
            return
        }
        let clock = ContinuousClock()
        let end = clock.now + delay
        while clock.now < end {
            if abort() { throw failure }
            try await Task.sleep(for: min(end - clock.now, .milliseconds(100)))
        }
        if abort() { throw failure }
    }
}

extension Duration {
    /// The duration as NIO's `TimeAmount` (what AsyncHTTPClient's timeouts take).
    var timeAmount: TimeAmount {
        let parts = components
        return .nanoseconds(parts.seconds &* 1_000_000_000 &+ parts.attoseconds / 1_000_000_000)
    }
}
