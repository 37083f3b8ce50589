import Foundation

/// One line of progress on a terminal's standard error; silent when it is not a terminal,
/// so scripts and logs get no carriage-return noise. Shared by `botrix` (rebuild, verify,
/// backup) and `botrix-bench` (writing a synthetic log).
public final class ProgressLine: @unchecked Sendable {
    /// What is being done, printed before the bar.
    public let label: String
    /// The amount of work that makes 100 %.
    public let total: Int
    let enabled = isatty(2) == 1

    /// Prints the empty bar at once, so a long first step does not look like a hang.
    public init(label: String, total: Int) {
        self.label = label
        self.total = total
        update(0)
    }

    /// For work counted in events.
    public func update(_ done: UInt64) { update(Int(clamping: done)) }

    /// Redraws the bar at `done` of `total`.
    public func update(_ done: Int) {
        guard enabled else { return }
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(fraction * 100))%".utf8))
    }

    /// Draws the full bar and ends the line.
    public func finish() {
        update(total)
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
