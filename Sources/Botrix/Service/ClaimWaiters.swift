import Synchronization

/// Claims that wait for work (long polling). A claim that finds the queue empty waits
/// here, in arrival order, until a job becomes ready or its time is up. Whenever a command
/// may have made a job ready (created, failed with retry, expired, released) the waiters
/// are served one at a time, first come first served, each by an ordinary claim command
/// — so every job still goes out in queue order, and no job is claimed twice. Nothing
/// polls: a waiter sleeps until woken or until its deadline.
public final class ClaimWaiters: Sendable {
    /// What a waiting claim asks for.
    public struct Request: Sendable {
        public var workerID: String
        public var leaseSeconds: Int?
        public var maxJobs: Int
        public var metadata: CommandMetadata
        /// Asked before the claim is served: false (its key was revoked while it waited)
        /// ends it with ``ClaimWaitRevoked`` instead of leasing a job to it.
        public var allowed: @Sendable () -> Bool

        public init(
            workerID: String, leaseSeconds: Int?, maxJobs: Int, metadata: CommandMetadata,
            allowed: @escaping @Sendable () -> Bool = { true }
        ) {
            self.workerID = workerID
            self.leaseSeconds = leaseSeconds
            self.maxJobs = maxJobs
            self.metadata = metadata
            self.allowed = allowed
        }
    }

    private struct Waiter: Sendable {
        let id: UInt64
        let owner: String
        let deadline: ContinuousClock.Instant
        let request: Request
        /// Gives back jobs claimed for a waiter whose client left meanwhile.
        let giveBack: @Sendable ([ClaimedJob]) async -> Void
        let continuation: CheckedContinuation<[ClaimedJob], any Error>
    }

    private struct State: Sendable {
        var waiting: [Waiter] = []
        /// The waiter being served (out of `waiting`, so its timeout cannot answer it).
        var inService: Waiter?
        /// Counts wake-ups, so a claim can tell whether one came while it was not yet waiting.
        var generation: UInt64 = 0
        /// Claims that ever started waiting.
        var arrivals = 0
        /// Waiters whose client left while they were being served.
        var gone: Set<UInt64> = []
        var nextID: UInt64 = 0
        var serving = false
        var wakeAgain = false
        var stopped = false
    }

    private let state = Mutex(State())
    /// Waiting claims one owner (API key, or "open") may hold at once.
    public let limitPerOwner: Int

    public init(limitPerOwner: Int = 64) { self.limitPerOwner = limitPerOwner }

    /// Claims that ever started waiting (tests wait on it to know the arrival order).
    public var arrivals: Int { state.withLock { $0.arrivals } }

    /// Claims waiting now, the one being served included (a gauge).
    public var count: Int { state.withLock { $0.waiting.count + ($0.inService == nil ? 0 : 1) } }

    /// Taken before a claim's first try; ``wait(_:owner:timeout:since:claim:)`` compares it to
    /// know whether a job may have become ready before the claim started waiting.
    func ticket() -> UInt64 { state.withLock { $0.generation } }

    /// Waits until a job is claimed for `request` (by `claim`) or `timeout` passes (an
    /// empty answer). Call it only after an immediate claim found nothing.
    /// - Throws: ``ClaimWaitRefused`` when `owner` already has its share of waiting claims.
    /// - Parameters:
    ///   - whenGone: registers a callback for when the client goes away (its connection
    ///     closes): the claim stops waiting, and jobs claimed for it meanwhile are given back.
    ///   - giveBack: how to give such jobs back (a release, which spends no attempt).
    func wait(
        _ request: Request, owner: String, timeout: Duration, since ticket: UInt64,
        whenGone: (@escaping @Sendable () -> Void) -> Void = { _ in },
        giveBack: @escaping @Sendable ([ClaimedJob]) async -> Void = { _ in },
        claim: @escaping @Sendable (Request) async throws -> [ClaimedJob]
    ) async throws -> [ClaimedJob] {
        let id: UInt64? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return [] }
        let result = try await withCheckedThrowingContinuation { continuation in
            let (admitted, missed, stopped) = state.withLock { state -> (Bool, Bool, Bool) in
                // The server may have begun to stop since the id was taken: never wait then.
                guard !state.stopped else { return (false, false, true) }
                let held =
                    state.waiting.filter({ $0.owner == owner }).count + (state.inService?.owner == owner ? 1 : 0)
                guard held < limitPerOwner else { return (false, false, false) }
                state.arrivals += 1
                state.waiting.append(
                    Waiter(
                        id: id, owner: owner, deadline: .now + timeout, request: request, giveBack: giveBack,
                        continuation: continuation))
                return (true, state.generation != ticket, false)
            }
            if stopped {
                continuation.resume(returning: [])
                return
            }
            guard admitted else {
                continuation.resume(throwing: ClaimWaitRefused(limit: limitPerOwner))
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
            whenGone { self.leave(id) }
            // A job became ready between the caller's first try and now: serve at once.
            if missed { self.wake(claim: claim) }
        }
        return result
    }

    /// Serves waiting claims in arrival order until the queue runs dry.
    func wake(claim: @escaping @Sendable (Request) async throws -> [ClaimedJob]) {
        let start = state.withLock { state -> Bool in
            state.generation &+= 1
            guard !state.waiting.isEmpty else { return false }
            if state.serving {
                state.wakeAgain = true
                return false
            }
            state.serving = true
            return true
        }
        guard start else { return }
        Task { await self.serve(claim: claim) }
    }

    /// Answers every waiting claim at once with nothing (the server is stopping); claims
    /// that arrive afterwards do not wait. Returns how many claims it answered, the one
    /// being served included (it is answered as soon as its claim returns).
    @discardableResult
    public func stop() -> Int {
        let (all, serving) = state.withLock { state -> ([Waiter], Bool) in
            let first = !state.stopped
            state.stopped = true
            defer { state.waiting = [] }
            return (state.waiting, first && state.inService != nil)
        }
        for waiter in all { waiter.continuation.resume(returning: []) }
        return all.count + (serving ? 1 : 0)
    }

    private func serve(claim: @escaping @Sendable (Request) async throws -> [ClaimedJob]) async {
        while true {
            // Take the first waiter out of the list: while it is served, its timeout cannot answer it.
            let next = state.withLock { state -> Waiter? in
                guard !state.waiting.isEmpty else {
                    state.serving = false
                    state.wakeAgain = false
                    return nil
                }
                state.inService = state.waiting.removeFirst()
                return state.inService
            }
            guard let waiter = next else { return }
            guard waiter.request.allowed() else {
                state.withLock { $0.inService = nil }
                waiter.continuation.resume(throwing: ClaimWaitRevoked())
                continue
            }
            do {
                let jobs = try await claim(waiter.request)
                if !jobs.isEmpty {
                    let gone = state.withLock { state -> Bool in
                        state.inService = nil
                        return state.gone.remove(waiter.id) != nil
                    }
                    // Its client left while the claim ran: nobody would work on these jobs.
                    if gone { await waiter.giveBack(jobs) }
                    waiter.continuation.resume(returning: gone ? [] : jobs)
                    continue
                }
                // The queue is dry: the waiter goes back to the front (unless its time is up or
                // the server stops); serving stops unless it was woken meanwhile.
                let (again, done) = state.withLock { state -> (Bool, Bool) in
                    state.inService = nil
                    let left = state.gone.remove(waiter.id) != nil
                    let done = left || state.stopped || ContinuousClock.now >= waiter.deadline
                    if !done { state.waiting.insert(waiter, at: 0) }
                    if state.wakeAgain {
                        state.wakeAgain = false
                        return (true, done)
                    }
                    state.serving = false
                    return (false, done)
                }
                if done { waiter.continuation.resume(returning: []) }
                if !again { return }
            } catch {
                state.withLock { $0.inService = nil }
                waiter.continuation.resume(throwing: error)
            }
        }
    }

    /// The client of waiter `id` went away: stop waiting now, or — when it is being served
    /// — give back what its claim gets.
    private func leave(_ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            if state.inService?.id == id { state.gone.insert(id) }
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiting.remove(at: index)
        }
        waiter?.continuation.resume(returning: [])
    }

    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiting.remove(at: index)
        }
        waiter?.continuation.resume(returning: [])
    }
}

/// The waiting claim's API key was revoked (or the open API got its first key) while it
/// waited; nothing was claimed for it.
public struct ClaimWaitRevoked: Error, CustomStringConvertible, Sendable {
    public var description: String {
        "the API key of this waiting claim was revoked while it waited: nothing was claimed"
    }
}

/// The owner already has as many waiting claims as allowed; nothing was claimed.
public struct ClaimWaitRefused: Error, CustomStringConvertible, Sendable {
    public let limit: Int
    public var description: String {
        "this key already has \(limit) claims waiting for work: wait for one to return before sending another"
    }
}
