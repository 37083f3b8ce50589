import Logging

/// One claimed job from claim to report: the handler in a task of its own (cancelled when
/// the job is dropped), the heartbeat beside it, then the one final call.
extension Worker {
    func process(_ claim: Claim, handler: @escaping Handler) async {
        let context = JobContext(worker: self, claim: claim)
        logger.info(
            "claimed job \(claim.jobID) (attempt \(claim.attempt), \(context.remaining) of \(context.count) to go)")
        let heartbeat = Task { await self.heartbeatLoop(context) }
        let work = Task { try await handler(context) }
        context.onGone { work.cancel() }
        let result = await withTaskCancellationHandler {
            await work.result
        } onCancel: {
            work.cancel()
        }
        heartbeat.cancel()
        await heartbeat.value
        let report = await finish(context, result)
        onJobFinished?(report)
    }

    /// Decides and sends the final call, as the Python worker does.
    private func finish(_ context: JobContext, _ result: Result<Void, any Error>) async -> JobReport {
        if context.isCancelled {
            logger.info("job \(context.jobID) dropped: \(context.stopReason ?? "cancelled")")
            return report(context, .dropped(reason: context.stopReason ?? "cancelled"))
        }
        if Task.isCancelled {
            logger.warning("job \(context.jobID) abandoned: the worker's task was cancelled")
            return report(context, .abandoned)
        }
        switch result {
        case .success:
            if isStopRequested && context.remaining > 0 {
                return await send(.release(reason: "worker stopping"), context)
            }
            if context.remaining > 0 {
                logger.warning(
                    "handler returned with \(context.remaining) of \(context.count) accounts missing; completing")
            }
            return await send(.completed, context)
        case .failure(let error as JobCancelled):
            // The handler gave up on its own: hand the job back.
            logger.info("job \(context.jobID): handler gave up (\(error.reason))")
            return await send(.release(reason: "handler gave up"), context)
        case .failure(is WorkerStopping):
            if context.remaining > 0 { return await send(.release(reason: "worker stopping"), context) }
            return await send(.completed, context)
        case .failure(let error):
            logger.error("handler failed on job \(context.jobID): \(error)")
            return await send(.failed(error: "\(type(of: error)): \(error)"), context)
        }
    }

    /// The final call on a job.
    private enum FinalCall {
        case completed
        case failed(error: String)
        case release(reason: String)

        /// The call's name in logs.
        var name: String {
            switch self {
            case .completed: "complete"
            case .failed: "fail"
            case .release: "release"
            }
        }
    }

    private func send(_ call: FinalCall, _ context: JobContext) async -> JobReport {
        let options = CallOptions(retryFor: retryFor)
        let outcome: JobReport.Outcome
        do {
            let job: Job
            switch call {
            case .completed:
                job = try await client.complete(context.claim, options: options)
                outcome = .completed
            case .failed(let error):
                job = try await client.fail(context.claim, error: error, retry: true, options: options)
                outcome = .failed(error: error)
            case .release(let reason):
                job = try await client.release(context.claim, reason: reason, options: options)
                outcome = .released(reason: reason)
            }
            context.update(job)
        } catch let error as BotrixError where error.isConflict || error.isNotFound {
            logger.warning("job \(context.jobID): \(call.name) refused (\(error.detail)); the job is no longer ours")
            return report(context, .dropped(reason: error.detail))
        } catch {
            logger.error("job \(context.jobID): \(call.name) failed: \(error) (the lease will run out on the server)")
            return report(context, .unreported(action: call.name, error: "\(error)"))
        }
        logger.info("job \(context.jobID) \(outcome.name) with \(context.recorded.count) account(s) from this attempt")
        return report(context, outcome)
    }

    private func report(_ context: JobContext, _ outcome: JobReport.Outcome) -> JobReport {
        JobReport(
            jobID: context.jobID, attempt: context.attempt, outcome: outcome, accounts: context.recorded,
            job: context.job)
    }
}
