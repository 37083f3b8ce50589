import Foundation

/// One line of progress on a terminal's standard error; silent when it is not a terminal.
final class ProgressLine: @unchecked Sendable {
    let label: String
    let total: Int
    let enabled = isatty(2) == 1

    init(label: String, total: Int) {
        self.label = label
        self.total = total
        update(0)
    }

    /// For work counted in events.
    func update(_ done: UInt64) { update(Int(clamping: done)) }

    func update(_ done: Int) {
        guard enabled else { return }
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(fraction * 100))%".utf8))
    }

    func finish() {
        update(total)
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
