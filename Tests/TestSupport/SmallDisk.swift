import Foundation

/// A tmpfs of a given size mounted on a fresh folder: a real file system that fills up.
/// Tests run as root (as in CI); where mounting is not allowed the initialiser throws, so
/// the test fails rather than passing unchecked. Write `defer { disk.unmount() }` right
/// after making one: Swift may end an object's life at its last use, which for a disk
/// used only through ``path`` would be at once.
public final class SmallDisk: @unchecked Sendable {
    /// Where the file system is mounted.
    public let path: String
    private let folder: TemporaryFolder

    /// Why a small disk could not be mounted.
    public struct MountFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Mounts a tmpfs of `bytes` bytes (rounded up to whole pages by the kernel), or another
    /// memory file system (`ramfs`, which has no size limit and ignores `bytes`).
    public init(bytes: Int, fileSystem: String = "tmpfs") throws {
        folder = TemporaryFolder("botrix-disk")
        path = folder.file("disk")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mounted = try runProgram("/bin/mount", ["-t", fileSystem, "-o", "size=\(bytes)", fileSystem, path])
        guard mounted.status == 0 else {
            throw MountFailed(description: "cannot mount a \(fileSystem) (tests must run as root): \(mounted.error)")
        }
    }

    /// A path on the small disk.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    private var mounted = true

    /// Unmounts the file system (lazily: open files keep it until they close). Idempotent.
    public func unmount() {
        guard mounted else { return }
        mounted = false
        _ = try? runProgram("/bin/umount", ["-l", path])
    }

    deinit { unmount() }
}
