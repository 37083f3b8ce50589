import Foundation
import TestSupport
import Testing

@testable import Botrix

#if canImport(Glibc)
    import Glibc
#endif

/// A server's lock is found whichever path names its data file: through a symbolic link to
/// the file or to its folder, or the file itself.
@Suite("Server presence")
struct ServerPresenceTests {
    @Test("a server started through a link to the file or its folder is found by the real path, and the reverse")
    func linksFindOneLock() throws {
        let folder = TemporaryFolder("presence")
        let real = folder.file("botrix.mdb")
        #expect(FileManager.default.createFile(atPath: real, contents: Data()))
        let fileLink = folder.file("alias.mdb")
        let folderLink = folder.file("linked")
        #expect(symlink(real, fileLink) == 0)
        #expect(symlink(folder.path, folderLink) == 0)
        let throughFolder = folderLink + "/botrix.mdb"
        let lock = try #require(Self.realPath(real)) + "-serve.lock"
        #expect([fileLink, throughFolder, real].map(ServerPresence.lockPath) == [lock, lock, lock])
        for (served, asked) in [(fileLink, real), (real, fileLink), (throughFolder, real), (real, throughFolder)] {
            let presence = try ServerPresence(dataFile: served)
            #expect(ServerPresence.server(of: asked) == getpid(), "served \(served), asked \(asked)")
            #expect(ServerPresence.followsExchanges(of: asked) == true)
            #expect(throws: ServerPresenceError.self) { _ = try ServerPresence(dataFile: asked) }
            withExtendedLifetime(presence) {}
        }
        #expect(ServerPresence.server(of: real) == nil, "each lock went with its value")
    }

    @Test("a data file not made yet, in a linked folder, is named by its folder's real path")
    func fileNotYetMade() throws {
        let folder = TemporaryFolder("presence-new")
        let folderLink = folder.file("linked")
        #expect(symlink(folder.path, folderLink) == 0)
        let realFolder = try #require(Self.realPath(folder.path))
        #expect(ServerPresence.lockPath(folderLink + "/new.mdb") == realFolder + "/new.mdb-serve.lock")
        let presence = try ServerPresence(dataFile: folderLink + "/new.mdb")
        #expect(ServerPresence.server(of: folder.file("new.mdb")) == getpid())
        withExtendedLifetime(presence) {}
    }

    @Test("a rebuild's lock taken through a link to the file refuses a second rebuild given the real path")
    func rebuildLockThroughLinks() throws {
        let folder = TemporaryFolder("rebuild-lock")
        let real = folder.file("botrix.mdb")
        #expect(FileManager.default.createFile(atPath: real, contents: Data()))
        let link = folder.file("alias.mdb")
        #expect(symlink(real, link) == 0)
        for (first, second) in [(link, real), (real, link)] {
            let lock = try RebuildLock(dataFile: first)
            #expect(throws: RebuildLock.Busy.self, "first \(first), then \(second)") {
                _ = try RebuildLock(dataFile: second)
            }
            lock.release()
            try RebuildLock(dataFile: second).release()  // free again once let go
        }
    }

    /// The kernel's own resolution, to hold the lock's name to.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
