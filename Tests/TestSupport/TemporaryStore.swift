import Foundation
public import LMDB
public import Storage

/// A fresh folder for one test's LMDB file, removed when the value goes away.
/// Each test opens its own file: LMDB forbids opening one file twice in a process.
public final class TemporaryFolder: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "botrix-test") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the folder.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Opens an environment on `name` in this folder; defaults suit tests (no fsync).
    public func environment(
        _ name: String = "data.mdb", mapSize: Int = 1 << 26, maximumMapSize: Int = 1 << 32,
        durability: Durability = .nosync
    ) throws -> Environment {
        try Environment(
            .init(path: file(name), mapSize: mapSize, maximumMapSize: maximumMapSize, durability: durability))
    }
}

/// Finds an executable built beside the test bundle (`botrix`, `CrashWriter`).
public func builtExecutable(_ name: String, file: String = #filePath) -> String? {
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().path)
    }
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
    var root = URL(fileURLWithPath: file)
    while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path)
    {
        root.deleteLastPathComponent()
    }
    candidates.append(root.appendingPathComponent(".build/debug").path)
    candidates.append(root.appendingPathComponent(".build/release").path)
    for folder in candidates {
        let path = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// Opens something over an LMDB file another owner is still releasing: a writer thread
/// drops its reference to the environment a moment after `shutdown()` returns.
public func retryingWhileOpen<T>(_ open: () throws -> T) throws -> T {
    for _ in 0..<200 {
        do {
            return try open()
        } catch let error as LMDBError {
            guard case .alreadyOpen = error else { throw error }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }
    return try open()
}
