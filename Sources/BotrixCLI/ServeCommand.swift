import ArgumentParser
import Botrix
import BotrixServer
import Foundation
import Logging
import Metrics

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API until SIGTERM or SIGINT.",
        discussion: """
            Opens the data file (creating it and its folder when missing), starts the
            single group-commit writer and serves HTTP. On SIGTERM or SIGINT it stops
            accepting connections, finishes requests in flight, commits what is queued and
            closes the file.

            Settings come from the environment and .env (see README, .env.example); the
            options below override them.

            EXAMPLES
              botrix serve
              botrix serve --host 127.0.0.1 --port 9000 --db /var/lib/botrix/botrix.mdb
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on (default SERVER_HOST or 0.0.0.0).") var host: String?
    @Option(help: "Port to listen on (default SERVER_PORT or 8080).") var port: Int?

    func run() async throws {
        MallocArenas.limitForServer(environment: ProcessInfo.processInfo.environment)
        var configuration = try await store.configuration()
        if let host { configuration.serverHost = host }
        if let port { configuration.serverPort = port }
        let logger = ServerLogging.bootstrap(configuration)
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        // The serve lock is taken once the file opens (so an unopenable file is reported as
        // such) and before the writer starts (so a second server stops there).
        var presence: ServerPresence?
        let (service, source) = try await configuration.openService(
            whenOpened: { path, head in
                presence = try ServerPresence(dataFile: configuration.databasePath)
                for leftover in ScratchProjections.removeLeftovers(besideDataFile: path) {
                    logger.warning("removed \(leftover), left by a rebuild that was killed")
                }
                logger.info(
                    "opened store",
                    metadata: [
                        "path": "\(path)", "head": "\(head)", "durability": "\(configuration.durability.rawValue)",
                    ])
            },
            onBatch: { report in
                metrics.record(report)
                if report.staleReadersCleared > 0 {
                    logger.warning(
                        "cleared \(report.staleReadersCleared) LMDB reader slot(s) left by dead processes (the file was growing)"
                    )
                }
            })
        // Only now: the service checked the key against the data file and its keyring.
        logger.info(
            "account secrets sealed with the master key from \(source) (fingerprint \(service.secretsFingerprint)); keyring \(Keyring(dataFile: service.path).path)"
        )
        do {
            let app = try await BotrixApplication.build(
                configuration: configuration, service: service, logger: logger, metrics: metrics)
            try await app.runService()
        } catch {
            try? await service.shutdown()  // what was acknowledged is committed and flushed
            throw error
        }
        try await service.shutdown()
        withExtendedLifetime(presence) {}
        logger.info("stopped cleanly")
    }
}
