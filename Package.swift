// swift-tools-version: 6.2
// Botrix: an event-sourced ledger and work queue for batch account-provisioning jobs.
// Layers (dependencies point down only): BotrixCLI → BotrixServer → Botrix → EventLog → Storage (the seam),
// which LMDB (over CLMDB) implements; StorageBackends opens a store and is the one module above LMDB naming it.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Botrix",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "botrix", targets: ["BotrixCLI"]),
        .library(name: "Botrix", targets: ["Botrix"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "LMDB", targets: ["LMDB"]),
        .library(name: "Storage", targets: ["Storage"]),
        // For workers and operators written in Swift: talks to a Botrix server over HTTP.
        .library(name: "BotrixClient", targets: ["BotrixClient"]),
        .executable(name: "botrix-example-worker", targets: ["BotrixExampleWorker"]),
        .executable(name: "botrix-worker-bench", targets: ["BotrixWorkerBench"]),
        .executable(name: "botrix-bench", targets: ["BotrixBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Already in the graph through Hummingbird; named for NIOHTTPTypes, the request and
        // response parts that the connection-deadline channel handler watches.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The Swift client library's HTTP client (connection pooling, timeouts, streaming).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The dashboard's HTML templates (logic-less, HTML-escaping by default).
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // glibc's <malloc.h>: `botrix serve` limits the allocator's arenas (MallocArenas).
        .systemLibrary(name: "CMalloc"),
        // renameat2(RENAME_NOREPLACE): a backup puts its files in place, never over another's.
        .systemLibrary(name: "CFiles"),
        // The storage seam: protocols for ordered keys, snapshot reads, one serialized write
        // transaction and a durable commit; no dependencies. Everything above is written
        // against it; LMDB below implements it.
        .target(
            name: "Storage",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LMDB",
            dependencies: ["CLMDB", "Storage"],
            swiftSettings: swiftSettings
        ),
        // JSON by hand, shared by the log and the domain: one escaper, a strict reader, a
        // validator that builds nothing, and a writer with sorted keys (stored JSON is hashed).
        .target(
            name: "JSONCoding",
            swiftSettings: swiftSettings
        ),
        // Picks the backend for a path (LMDB today): the one module above LMDB that names it.
        .target(
            name: "StorageBackends",
            dependencies: ["LMDB", "Storage"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EventLog",
            // swift-crypto: its BoringSSL module (CCryptoBoringSSL) hashes each record with a
            // context on the stack, which swift-crypto's SHA256 type does not allow (RecordFormat).
            dependencies: [
                "JSONCoding",
                "Storage",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Botrix",
            dependencies: [
                "CFiles",
                "EventLog",
                "JSONCoding",
                "Storage",
                "StorageBackends",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BotrixServer",
            dependencies: [
                "Botrix",
                "EventLog",
                "JSONCoding",
                "Storage",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                // Dashboard session tokens are kept by their SHA-256.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The dashboard's templates, stylesheet and script, compiled into the binary.
            resources: [.embedInCode("Dashboard/Assets")],
            swiftSettings: swiftSettings
        ),
        // A progress bar on standard error, shared by the two command-line programs.
        .target(
            name: "TerminalOutput",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BotrixCLI",
            dependencies: [
                "Botrix",
                "CMalloc",
                "BotrixServer",
                "EventLog",
                "JSONCoding",
                "Storage",
                "TerminalOutput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // `botrix-bench` (make bench): durable appends, domain commands and rebuild, each
        // against a raw-LMDB C baseline of the same run. Not part of the production binary.
        .executableTarget(
            name: "BotrixBench",
            dependencies: [
                "Botrix",
                "EventLog",
                "Storage",
                "StorageBackends",
                "TerminalOutput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // http-floor: the framework alone, the ceiling for the HTTP read figures.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Swift client: depends on nothing of the server, so a worker links only this.
        .target(
            name: "BotrixClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A worker that does fake work (sleeps, made-up accounts): the client library in use.
        .executableTarget(
            name: "BotrixExampleWorker",
            dependencies: [
                "BotrixClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The worker-loop benchmark (tools/worker-bench.sh): throughput and claim latency.
        .executableTarget(
            name: "BotrixWorkerBench",
            dependencies: [
                "BotrixClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // A tiny program the crash-safety test kills with SIGKILL; test support, not product code.
        .executableTarget(
            name: "CrashWriter",
            dependencies: ["EventLog", "LMDB", "Storage", "StorageBackends"],
            path: "Tests/CrashWriter",
            swiftSettings: swiftSettings
        ),
        // Temporary folders and environments shared by the test targets.
        .target(
            name: "TestSupport",
            dependencies: ["LMDB", "Storage"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LMDBTests",
            dependencies: ["LMDB", "Storage", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // Checks on the source text: which module may import which (the storage seam).
        .testTarget(
            name: "ArchitectureTests",
            swiftSettings: swiftSettings
        ),
        // The storage seam's contract, written once against the protocols and run against
        // every backend in Backend.all (LMDB today).
        .testTarget(
            name: "StorageConformanceTests",
            dependencies: ["Storage", "StorageBackends", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventLogTests",
            // Crypto: the record encoder's test hashes with it independently.
            dependencies: [
                "EventLog", "JSONCoding", "LMDB", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BotrixTests",
            // Crypto: the erasure test searches a raw copy for anything the keys it holds open
            // (it also imports swift-crypto's CCryptoBoringSSL module for AES-GCM without
            // per-call key setup, which brings that search from minutes to seconds).
            dependencies: [
                "Botrix", "EventLog", "JSONCoding", "LMDB", "Storage", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BotrixServerTests",
            dependencies: [
                "BotrixServer",
                "Botrix",
                "EventLog",
                "LMDB",
                "Storage",
                "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BotrixClientTests",
            dependencies: ["BotrixClient", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BotrixCLITests",
            dependencies: ["BotrixCLI", "BotrixBench", "Botrix", "EventLog", "LMDB", "Storage", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
