import BotrixServer
import Foundation
import Hummingbird
import Testing

@testable import Botrix

/// The router and `schemas/openapi.yaml` list the same routes: a route added to one and
/// not the other fails here.
@Suite("OpenAPI document")
struct RouteDocumentTests {
    @Test("every route of the router is in the document, and every documented route is served")
    func sameRoutes() async throws {
        let h = try APIHarness()
        let service = try await BotrixService(store: h.store, writer: h.writer)
        let router = try BotrixApplication.makeRouter(
            service: service, configuration: h.configuration, metrics: ServerMetrics(),
            access: AccessPolicy(keys: try APIKeyStore(environment: h.store.environment), development: true))
        // The dashboard's catch-alls (`/ui/**`, its HTML 404 page) match no one path to document.
        let served = Set(
            router.routes.map { "\($0.method.rawValue) \(Self.normalize("\($0.path)"))" }.filter { !$0.hasSuffix("**") }
        )
        let documented = try Self.documentedRoutes()
        #expect(documented.count >= 27)
        #expect(
            served.subtracting(documented).isEmpty,
            "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(
            documented.subtracting(served).isEmpty,
            "documented but not served: \(documented.subtracting(served).sorted())")
    }

    /// `{id}` and `:id` spell the same parameter.
    static func normalize(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }

    /// `paths:` entries (two-space indent) and their methods (four-space indent).
    static func documentedRoutes() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schemas/openapi.yaml").standardized
        let lines = try String(contentsOf: url, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        var routes = Set<String>()
        var inPaths = false
        var path: String?
        for line in lines {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let method = line.dropFirst(4).dropLast()
                if ["get", "post", "put", "delete", "patch"].contains(String(method)) {
                    routes.insert("\(method.uppercased()) \(path)")
                }
            }
        }
        return routes
    }
}
