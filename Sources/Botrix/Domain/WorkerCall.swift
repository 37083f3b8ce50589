import Crypto
import EventLog
import Foundation
import JSONCoding

/// Who makes a worker call: the name it gives, the claim token of its attempt, and the API
/// key it authenticated with. The token is what tells two attempts apart — a restarted
/// process, or two copies with one name, share a worker id but never a token.
public struct WorkerCall: Sendable, Equatable {
    public var workerID: String
    /// The `claim_token` the claim answered; nil for calls written before tokens (they
    /// are accepted only where they cannot act for another attempt, see ``JobDecider``).
    public var claimToken: String?
    /// The id of the API key that sent the call (nil in open mode).
    public var apiKey: String?

    public init(workerID: String, claimToken: String? = nil, apiKey: String? = nil) {
        self.workerID = workerID
        self.claimToken = claimToken
        self.apiKey = apiKey
    }
}

/// Claim tokens: 24 random bytes in hex behind `ct_`, given to the claiming worker once;
/// the log keeps only their SHA-256.
public enum ClaimToken {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "ct_" + JSONText.hex((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The hex SHA-256 recorded in `JobClaimed`.
    public static func hash(_ token: String) -> String { JSONText.hex(Array(SHA256.hash(data: Array(token.utf8)))) }
}

/// A claim's answer: the job as leased, and the token of this attempt (shown only here).
public struct ClaimedJob: Sendable {
    public var job: JobView
    public var claimToken: String
}

/// What a heartbeat answer tells the worker to do next.
public enum WorkerInstruction: String, Sendable {
    /// Go on working; the lease was renewed.
    case `continue`
    /// The job was cancelled: stop, and report nothing more.
    case cancel
    /// The server is stopping: finish quickly, or release the job.
    case shutdown
}
