import Logging

/// The lease renewal beside a running handler: a beat every `lease × heartbeatFraction`,
/// listening to the answer's instruction. It exists because a handler busy with its work
/// must not lose its lease, and must hear of a cancel or a shutdown while it works.
extension Worker {
    /// Beats until cancelled (the handler ended) or until the job is dropped: on `cancel`,
    /// or on 409/404 (the attempt may no longer act). `shutdown` means claim no more.
    func heartbeatLoop(_ context: JobContext) async {
        let lease = context.claim.leaseSeconds > 0 ? context.claim.leaseSeconds : leaseSeconds
        let interval = Duration.seconds(max(0.2, Double(lease) * heartbeatFraction))
        var wait = interval
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: wait)
            } catch {
                return
            }
            do {
                // Retries for up to one interval; the next beat then follows at once.
                let beat = try await client.heartbeat(context.claim, options: CallOptions(retryFor: interval))
                wait = interval
                context.update(beat.job)
                switch beat.instruction {
                case .cancel:
                    context.markGone("cancelled (heartbeat instruction)", lost: false)
                    return
                case .shutdown:
                    if noMoreClaims.set() {
                        logger.warning("server is shutting down: finishing job \(context.jobID), then claiming no more")
                    }
                case .`continue`:
                    break
                }
            } catch let error as BotrixError where error.isConflict || error.isNotFound {
                if !Task.isCancelled {
                    let status = error.status ?? 0
                    context.markGone("heartbeat \(status): \(error.detail)", lost: !error.saysCancelled)
                }
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("heartbeat for job \(context.jobID) failed: \(error); retrying")
                // A transient failure already waited out its interval of retries; another
                // (401, 422…) did not, and must not turn into a tight loop.
                wait = (error as? BotrixError)?.isTransient == true ? .zero : interval
            }
        }
    }
}
