import ArgumentParser

/// `botrix-bench`: throughput figures, each beside a baseline measured in the same run.
/// A separate executable so that measurement code (synthetic logs, raw baselines) is not
/// part of the production `botrix` binary.
@main
struct BotrixBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botrix-bench",
        abstract: "Measure throughput on this machine against a baseline in the same run.",
        discussion: """
            Every figure is the median of several runs on fresh files, printed beside a
            baseline measured in the same run and the ratio between them. The machine may be
            shared and noisy: compare ratios, not raw rates.

            EXAMPLES
              make bench
              botrix-bench append --baseline .build/lmdb-append-baseline --runs 5
            """,
        subcommands: [
            AppendBenchCommand.self, CommandsBenchCommand.self, RebuildBenchCommand.self, HTTPFloorCommand.self,
            SyntheticCommand.self,
        ]
    )
}
