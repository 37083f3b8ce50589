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
            Opens the data file (creating it and its folder when missing), starts the single
            group-commit writer and serves HTTP. On SIGTERM or SIGINT it stops accepting
            connections, finishes requests in flight, commits what is queued and closes the file.

            Settings come from the environment and .env (see README, .env.example);
            the options below override them.

            EXAMPLES
              botrix serve
              botrix serve --host 127.0.0.1 --port 9000 --db /var/lib/botrix/botrix.mdb
            """
    )

    @OptionGroup var store: StoreOptions
    @Option(help: "Address to listen on (default SERVER_HOST or 0.0.0.0).") var host: String?
    @Option(help: "Port to listen on (default SERVER_PORT or 8080).") var port: Int?

    func run() async throws {
        var configuration = try await store.configuration()
        if let host { configuration.serverHost = host }
        if let port { configuration.serverPort = port }
        let logger = ServerLogging.bootstrap(configuration)
        let botrix = try BotrixStore(
            .init(
                path: configuration.databasePath, mapSize: configuration.mapSize,
                maximumMapSize: configuration.maximumMapSize, durability: configuration.durability,
                writerQueueLimit: configuration.writerQueueLimit))
        let presence = try ServerPresence(dataFile: configuration.databasePath)
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let writer = botrix.makeWriter { report in
            metrics.record(report)
            if report.staleReadersCleared > 0 {
                logger.warning(
                    "cleared \(report.staleReadersCleared) LMDB reader slot(s) left by dead processes (the file was growing)"
                )
            }
        }
        let head = try botrix.log.head().sequence
        logger.info(
            "opened store",
            metadata: [
                "path": "\(botrix.environment.path)", "head": "\(head)",
                "durability": "\(configuration.durability.rawValue)",
            ])
        let app = try await BotrixApplication.build(
            configuration: configuration, store: botrix, writer: writer, logger: logger, metrics: metrics)
        try await app.runService()
        await writer.shutdown()
        try botrix.environment.sync()  // nosync / nometasync: flush what the OS still holds
        withExtendedLifetime(presence) {}
        logger.info("stopped cleanly")
    }
}
