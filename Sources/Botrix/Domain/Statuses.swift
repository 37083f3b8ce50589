/// Where a job is in its life; see the state machine in `schemas/job-state-machine.md`.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case pending, running, completed, failed, cancelled

    /// Finished jobs accept no further command.
    public var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }

    /// One byte for index keys.
    var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }
}

/// What an operator or worker says of an account.
public enum AccountStatus: String, Codable, Sendable, CaseIterable {
    case pending, verified, active, disabled, failed

    var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }
}

/// Job priorities: integers 0...10, higher first; `low`, `normal`, `high` are 0, 1, 2.
public enum Priority {
    public static let range = 0...10
    public static let names = ["low": 0, "normal": 1, "high": 2]

    /// The number for a name or a numeral; nil when it is neither.
    public static func parse(_ text: String) -> Int? {
        if let named = names[text.lowercased()] { return named }
        return Int(text).flatMap { range.contains($0) ? $0 : nil }
    }
}
