import ArgumentParser
import Botrix
import Foundation

/// `botrix-bench synthetic`: writes a synthetic log into a new data file and keeps it, for
/// measurements that serve a large store (tools/rebuild-pause.sh). The projections are not
/// written: `botrix serve` catches them up when it opens the file.
struct SyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic",
        abstract: "Write a synthetic log of N events into a new data file, and keep it.",
        discussion: """
            The same log `botrix-bench rebuild` replays: jobs created, claimed, their
            accounts recorded, completed. The file must not exist.

            EXAMPLES
              botrix-bench synthetic --events 1000000 --path /tmp/big.mdb
            """)

    @Option(help: "Events to write.") var events: Int = 1_000_000
    @Option(help: "The data file to create.") var path: String

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be at least 1") }
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path) exists") }
    }

    func run() throws {
        let store = try BotrixStore(.init(path: path, mapSize: 1 << 34, durability: .nosync))
        let written = try SyntheticLog.write(events: events, into: store.log)
        try store.environment.sync()
        print("wrote \(written) events to \(path)")
    }
}
