import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A form the dashboard posts (`application/x-www-form-urlencoded`), read whole up to 16 KiB.
struct DashboardForm: Sendable {
    var fields: [String: String]

    subscript(_ name: String) -> String? { fields[name] }

    static let limit = 16 * 1024

    static func read(_ request: Request) async throws -> DashboardForm {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw DashboardProblem(
                status: .unsupportedMediaType, heading: "Not a form",
                detail: "this address takes an HTML form (application/x-www-form-urlencoded)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw DashboardProblem(
                status: .contentTooLarge, heading: "Form too large",
                detail: "a dashboard form is at most \(limit / 1024) KiB")
        }
        return DashboardForm(fields: parse(String(buffer: buffer)))
    }

    /// `a=1&b=x+y%21` → ["a": "1", "b": "x y!"]; the first of repeated names counts.
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { continue }
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}

/// Cross-site request checks for the dashboard's POSTs, beside the form token: a browser
/// says where a request comes from (`Sec-Fetch-Site`, `Origin`); anything but this site
/// is refused. Requests without those headers (curl, old browsers) rely on the token.
enum SameOrigin {
    static func check(_ request: Request) throws {
        if let site = request.headers[.init("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            throw DashboardProblem.crossSite("the browser says this request came from another site (\(site))")
        }
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            // Behind a proxy that rewrites Host, the browser's host is in X-Forwarded-Host
            // (a form another site makes a browser send cannot set that header).
            let forwarded = request.headers[.init("X-Forwarded-Host")!]?.split(separator: ",").first
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard origin != "null", let url = URL(string: origin), let originHost = url.host else {
                throw DashboardProblem.crossSite("the request's Origin (\(origin)) is not this site")
            }
            // Compared without the scheme's default port (":443" of https, ":80" of http).
            let defaultPort = url.scheme?.lowercased() == "https" ? ":443" : ":80"
            func plain(_ authority: String?) -> String? {
                guard let authority = authority?.lowercased() else { return nil }
                return authority.hasSuffix(defaultPort) ? String(authority.dropLast(defaultPort.count)) : authority
            }
            let originAuthority = plain(url.port.map { "\(originHost):\($0)" } ?? originHost)
            guard originAuthority == plain(host) || originAuthority == plain(forwarded) else {
                throw DashboardProblem.crossSite("the request's Origin (\(origin)) is not this site (\(host))")
            }
        }
    }
}

/// Where a sign-in goes on: only a path of the dashboard, so the login form cannot be
/// used to send someone elsewhere.
enum SafeNext {
    static func path(_ candidate: String?) -> String {
        guard let candidate, candidate.hasPrefix("/ui/") || candidate == "/ui", !candidate.hasPrefix("//"),
            !candidate.contains("\\"), !candidate.contains("://"),
            candidate.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/ui/" }
        return candidate
    }
}
