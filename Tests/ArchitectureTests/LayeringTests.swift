import Foundation
import Testing

/// The layers of docs/architecture.md, checked on the source text: a dependency that
/// points the wrong way fails here, not in a review.
@Suite("Architecture: the storage seam and the domain's door")
struct LayeringTests {
    let tree = SourceTree()

    /// The only modules allowed to name the LMDB backend: itself and the module that
    /// picks a backend for a path. Everything else is above the seam.
    static let backendModules: Set<String> = ["LMDB", "StorageBackends"]

    @Test("no module above the storage seam imports LMDB or CLMDB")
    func nothingAboveTheSeamImportsLMDB() throws {
        let modules = try tree.modules()
        #expect(
            modules.contains("Botrix") && modules.contains("EventLog"),
            "the source tree was not found at \(tree.root.path)")
        var offenders: [String] = []
        for module in modules where !Self.backendModules.contains(module) {
            for file in try tree.files(of: module) {
                for found in SourceTree.imports(in: file.text) where ["LMDB", "CLMDB"].contains(found.module) {
                    offenders.append("\(file.path): \(found.line)")
                }
            }
        }
        #expect(offenders.isEmpty, "above the seam, use the Storage protocols: \(offenders)")
    }

    @Test("the seam itself depends on nothing: Storage imports no other module of the package")
    func theSeamStandsAlone() throws {
        let ours = Set(try tree.modules())
        var offenders: [String] = []
        for file in try tree.files(of: "Storage") {
            for found in SourceTree.imports(in: file.text) where ours.contains(found.module) {
                offenders.append("\(file.path): \(found.line)")
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test("no source uses @testable or @_spi imports: the server and CLI see only Botrix's public API")
    func onlyPublicAPIAcrossModules() throws {
        var offenders: [String] = []
        for module in try tree.modules() {
            for file in try tree.files(of: module) {
                for found in SourceTree.imports(in: file.text)
                where found.line.contains("@testable") || found.line.contains("@_spi")
                    || found.line.contains("@_implementationOnly")
                {
                    offenders.append("\(file.path): \(found.line)")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test("the import check sees every form of import, so it cannot pass by missing one")
    func importParserSeesEveryForm() {
        let text = """
            import LMDB
            public import CLMDB
            @testable import Botrix
            @_exported import Storage
            internal import struct LMDB.Environment
              import Foundation
            // import Commented
            let important = 1
            """
        #expect(
            SourceTree.imports(in: text).map(\.module) == ["LMDB", "CLMDB", "Botrix", "Storage", "LMDB", "Foundation"])
    }
}
