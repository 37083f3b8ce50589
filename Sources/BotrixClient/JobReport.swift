/// What became of one claimed job, handed to the worker's `onJobFinished` callback: so a
/// program can log one line per job, count outcomes, or test what happened, without
/// parsing logs.
public struct JobReport: Sendable {
    /// How the worker ended its part in the job.
    public enum Outcome: Sendable, Hashable {
        /// The handler returned and `complete` was accepted.
        case completed
        /// The handler threw; `fail` with `retry: true` was accepted (requeued while attempts remain).
        case failed(error: String)
        /// The job was given back unfinished (the worker is stopping, or the handler gave up).
        case released(reason: String)
        /// The job was cancelled or the attempt lost it (409/404): no further call was made.
        case dropped(reason: String)
        /// The last call could not be made (server unreachable past `retryFor`); the lease
        /// runs out on the server and the job is requeued.
        case unreported(action: String, error: String)
        /// The task running the worker was cancelled: nothing was reported.
        case abandoned

        /// One word for logs: `completed`, `failed`, `released`, `dropped`, `unreported`, `abandoned`.
        public var name: String {
            switch self {
            case .completed: "completed"
            case .failed: "failed"
            case .released: "released"
            case .dropped: "dropped"
            case .unreported: "unreported"
            case .abandoned: "abandoned"
            }
        }
    }

    /// The claimed job.
    public var jobID: String
    /// The attempt number of the claim.
    public var attempt: Int
    /// What became of the job.
    public var outcome: Outcome
    /// The accounts this attempt recorded (as the server stored them, without passwords).
    public var accounts: [Account]
    /// The job as last seen (after the final call when it succeeded).
    public var job: Job
}
