import Foundation
import TerminalOutput

/// Runs a C baseline program from `tools/` and reads the `rate=` it prints.
enum Baseline {
    static func rate(of program: String, _ arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let rate = output.split(separator: " ").first(where: { $0.hasPrefix("rate=") })
                .flatMap({ Double($0.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) })
        else { throw CommandFailure("the baseline \(program) failed: \(output)") }
        return rate
    }

    /// Fails early, with the command that builds it, when a baseline is missing.
    static func require(_ path: String, source: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CommandFailure(
                "no baseline at \(path): build it with `cc -O2 -o \(path) \(source) -llmdb` or run `make bench`")
        }
    }
}
