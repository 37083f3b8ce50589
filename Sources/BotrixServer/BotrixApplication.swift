public import Botrix
public import EventLog
public import Hummingbird
public import Logging

/// Builds the HTTP application over an open store and its writer. Kept separate from
/// `botrix serve` so tests drive the very same application through HummingbirdTesting.
public enum BotrixApplication {
    public static func build(
        configuration: BotrixConfiguration, store: BotrixStore, writer: GroupCommitWriter, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        HealthRoutes(writer: writer).register(on: router)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.serverHost, port: configuration.serverPort),
                serverName: "Botrix/\(BotrixVersion.current)"),
            services: [WriterService(writer: writer)],
            logger: logger)
    }
}
