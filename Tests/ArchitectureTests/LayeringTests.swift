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

    @Test("no module re-exports another (@_exported): a backend cannot leak LMDB through an import of its own")
    func nothingReexported() throws {
        var offenders: [String] = []
        for module in try tree.modules() {
            for file in try tree.files(of: module) {
                for found in SourceTree.imports(in: file.text) where found.line.contains("@_exported") {
                    offenders.append("\(file.path): \(found.line)")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    /// What only Botrix itself may touch: the store, its writer, the projections, the vault,
    /// the log's transactions and the storage engine. The server and the CLI go through
    /// `BotrixService` and `BotrixFile`.
    static let insideTheDoor = [
        "BotrixStore", "GroupCommitWriter", "Projections", "LogTransaction", "AccountVault", "StorageEngine",
        "StorageBackends", "EventLog(", "store.environment", "botrix.environment", "service.environment",
    ]

    /// Whether `code` uses `name` as code (`Projections.standard`, `BotrixStore(`), not as a
    /// word of a help text ("Projections to rebuild").
    static func uses(_ name: String, in code: String) -> Bool {
        var rest = Substring(code)
        while let range = rest.range(of: name) {
            let before = rest[..<range.lowerBound].last
            let after = rest[range.upperBound...].first
            let startsWord = before.map { !$0.isLetter && !$0.isNumber && $0 != "_" } ?? true
            if startsWord && (name.hasSuffix("(") || after.map { ".(<:>?!,)]".contains($0) } ?? true) { return true }
            rest = rest[range.upperBound...]
        }
        return false
    }

    @Test("the server and the CLI use the domain's door only: no store, writer, projections, vault or engine")
    func serverAndCLIUseTheDoor() throws {
        var offenders: [String] = []
        for module in ["BotrixServer", "BotrixCLI"] {
            for file in try tree.files(of: module) {
                for (number, line) in file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    // A type's name as code uses it: followed by `.`, `(`, `<`, `:` or the line's end, not in prose.
                    for name in Self.insideTheDoor where Self.uses(name, in: String(code)) {
                        offenders.append("\(file.path):\(number + 1): \(name)")
                    }
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
            import\tLMDB
              import Foundation
            // import Commented
            let important = 1
            """
        #expect(
            SourceTree.imports(in: text).map(\.module) == [
                "LMDB", "CLMDB", "Botrix", "Storage", "LMDB", "LMDB", "Foundation",
            ])
    }
}
