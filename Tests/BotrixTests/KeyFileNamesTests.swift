import Foundation
import TestSupport
import Testing

@testable import Botrix

#if canImport(Glibc)
    import Glibc
#endif

/// The keyring and the development master key are named after the data file's real path,
/// as the store and its locks are: a command given a link to the file finds the files a
/// server started on the real path made (`botrix keys rotate-master` through a link said
/// there was no key).
@Suite("Key file names through links")
struct KeyFileNamesTests {
    @Test("the keyring and the development master key are the same files through a link as by the real path")
    func sameFilesThroughALink() throws {
        let folder = TemporaryFolder("key-names")
        let real = folder.file("botrix.mdb")
        #expect(FileManager.default.createFile(atPath: real, contents: Data()))
        let link = folder.file("alias.mdb")
        #expect(symlink(real, link) == 0)
        #expect(Keyring(dataFile: link).path == Keyring(dataFile: real).path)
        let made = try SecretBox.resolve(environment: [:], dataFile: real, development: true)
        let found = try SecretBox.resolve(
            environment: [:], dataFile: link, development: true, createDevelopmentKey: false)
        #expect(found.source == made.source)
        #expect(found.box.fingerprint == made.box.fingerprint)
        #expect(!FileManager.default.fileExists(atPath: link + "-master.key"))
    }
}
