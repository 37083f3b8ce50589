public import Botrix

extension BotrixConfiguration {
    /// The service's limits as configured (LEASE_SECONDS, MAX_ATTEMPTS, ...).
    public var serviceSettings: BotrixService.Settings {
        .init(
            leaseSeconds: leaseSeconds, maxAttempts: maxAttempts, maxJobCount: maxJobCount,
            idempotencyLifetimeSeconds: idempotencyTTLSeconds, waitingClaimsPerKey: maxWaitingClaimsPerKey,
            queueAgingSeconds: queueAgingSeconds, retryBackoffBaseSeconds: retryBackoffBaseSeconds,
            retryBackoffMaxSeconds: retryBackoffMaxSeconds)
    }

    /// Where the store is and its limits.
    public var storeOptions: ServiceStoreOptions {
        ServiceStoreOptions(
            path: databasePath, mapSize: mapSize, maximumMapSize: maximumMapSize, durability: durability,
            writerQueueLimit: writerQueueLimit)
    }

    /// The box sealing account secrets for `dataFile`: the master key from BOTRIX_MASTER_KEY
    /// or BOTRIX_MASTER_KEY_FILE, or (in development only) a key file beside the data file;
    /// and a description of where it came from, for the start-up log.
    public func secrets(for dataFile: String) throws -> (box: SecretBox, source: String) {
        var keySources: [String: String] = [:]
        keySources["BOTRIX_MASTER_KEY"] = masterKey
        keySources["BOTRIX_MASTER_KEY_FILE"] = masterKeyFile
        let resolved = try SecretBox.resolve(
            environment: keySources, dataFile: dataFile, development: serverEnvironment == .development)
        return (resolved.box, resolved.source)
    }

    /// Opens the configured store and the service on it (`botrix serve`'s first step), and
    /// says where the master key came from, for the start-up log.
    /// - Parameter whenOpened: see ``BotrixService/open(_:settings:whenOpened:secrets:leaseClock:onBatch:)``.
    public func openService(
        leaseClock: (@Sendable () -> Int64)? = nil,
        whenOpened: (_ dataFile: String, _ head: UInt64) throws -> Void = { _, _ in },
        onBatch: @escaping @Sendable (CommitReport) -> Void = { _ in }
    ) async throws -> (service: BotrixService, secretsSource: String) {
        var source = ""
        let service = try await BotrixService.open(
            storeOptions, settings: serviceSettings, whenOpened: whenOpened,
            secrets: { dataFile in
                let resolved = try secrets(for: dataFile)
                source = resolved.source
                return resolved.box
            },
            leaseClock: leaseClock ?? { [clock = LeaseClock()] in clock.now() }, onBatch: onBatch)
        return (service, source)
    }
}
