import ArgumentParser
import Botrix
import BotrixServer

/// `--db PATH`, shared by every command; falls back to DB_PATH (environment, then .env).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The LMDB data file.", valueName: "path"))
    var path: String?

    /// The configuration with `--db` applied over DB_PATH.
    func configuration() async throws -> BotrixConfiguration {
        var configuration = try await BotrixConfiguration.load()
        if let path { configuration.databasePath = path }
        return configuration
    }

    /// Opens the store for writing (creating it when missing), beside a server if one runs.
    func openForWriting() async throws -> BotrixFile {
        let configuration = try await configuration()
        return try BotrixFile(
            path: configuration.databasePath, mapSize: configuration.mapSize, durability: configuration.durability,
            access: .maintenance)
    }

    /// Opens the store for reading only, so it can sit beside a running server.
    func openForReading() async throws -> BotrixFile {
        let configuration = try await configuration()
        return try BotrixFile(path: configuration.databasePath, mapSize: configuration.mapSize)
    }
}
