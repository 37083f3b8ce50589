/// The answer to a heartbeat: the lease was renewed, and what the worker should do next.
/// It exists because the heartbeat is how a running worker learns of a cancel or a
/// server shutdown without any other channel.
public struct Heartbeat: Sendable, Hashable, Decodable {
    /// What the server tells the worker to do.
    public enum Instruction: String, Sendable, Hashable, Decodable {
        /// The lease was renewed: go on.
        case `continue`
        /// The job was cancelled: stop and report nothing more.
        case cancel
        /// The server is stopping: finish quickly or release the job.
        case shutdown

        /// An instruction this client does not know (from a newer server) reads as `continue`.
        public init(from decoder: any Decoder) throws {
            let raw = try decoder.singleValueContainer().decode(String.self)
            self = Instruction(rawValue: raw) ?? .`continue`
        }
    }

    /// What to do next.
    public var instruction: Instruction
    /// The job as it is now.
    public var job: Job
    /// The renewed lease's end; nil once the job is no longer running.
    public var leaseExpiresAt: String?

    enum CodingKeys: String, CodingKey {
        case instruction, job
        case leaseExpiresAt = "lease_expires_at"
    }
}
