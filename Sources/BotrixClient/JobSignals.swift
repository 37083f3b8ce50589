/// Thrown by a ``JobContext`` when the worker must stop working on the job: the operator
/// cancelled it (heartbeat instruction `cancel`, or a 409 saying so), or the attempt lost
/// it (`isLost`: stale token, lease ran out, job finished). Nothing more may be reported;
/// let it propagate out of the handler and the worker makes no further call on the job.
public struct JobCancelled: Error, Sendable, CustomStringConvertible {
    /// The job that was cancelled or lost.
    public let jobID: String
    /// Why, as the server or the heartbeat said.
    public let reason: String
    /// True when the attempt lost the job (rather than the job being cancelled).
    public let isLost: Bool

    /// Builds the error (the context throws these; handlers may too, to give a job up).
    public init(jobID: String, reason: String, isLost: Bool) {
        self.jobID = jobID
        self.reason = reason
        self.isLost = isLost
    }

    /// Says whether the job was cancelled or lost, and why.
    public var description: String { "job \(jobID) \(isLost ? "lost" : "cancelled"): \(reason)" }
}

/// Thrown by ``JobContext/check()`` once the worker was asked to stop (``Worker/stop()``,
/// e.g. on SIGTERM). The worker then releases the job, or completes it when every account
/// is recorded.
public struct WorkerStopping: Error, Sendable, CustomStringConvertible {
    /// The worker that is stopping.
    public let workerID: String

    /// Builds the error for `workerID`.
    public init(workerID: String) { self.workerID = workerID }

    /// Says which worker is stopping.
    public var description: String { "worker \(workerID) is stopping" }
}
