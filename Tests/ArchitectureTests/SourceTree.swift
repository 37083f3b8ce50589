import Foundation

/// The repository's sources as text, for tests that check how modules depend on each other.
struct SourceTree {
    /// The folder holding Package.swift.
    let root: URL

    init(file: String = #filePath) {
        var root = URL(fileURLWithPath: file)
        while root.path != "/",
            !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path)
        {
            root.deleteLastPathComponent()
        }
        self.root = root
    }

    /// The modules under Sources/, by folder name.
    func modules() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path).sorted()
    }

    /// Every Swift file of `module`, as (path relative to the root, text).
    func files(of module: String) throws -> [(path: String, text: String)] {
        let folder = root.appendingPathComponent("Sources/\(module)")
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var out: [(String, String)] = []
        for case let relative as String in walker where relative.hasSuffix(".swift") {
            let url = folder.appendingPathComponent(relative)
            out.append(("Sources/\(module)/\(relative)", try String(contentsOf: url, encoding: .utf8)))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// The modules a file imports, whatever the access level or attribute
    /// (`import X`, `public import X`, `@testable import X`, `@_exported import X`, `import struct X.Y`).
    static func imports(in text: String) -> [(module: String, line: String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            while let first = words.first,
                first.hasPrefix("@") || ["public", "package", "internal", "private", "fileprivate"].contains(first)
            {
                words.removeFirst()
            }
            guard words.first == "import", words.count >= 2 else { return nil }
            let target =
                words.count >= 3
                    && ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(words[1])
                ? words[2] : words[1]
            return (String(target.split(separator: ".").first ?? ""), line)
        }
    }
}
