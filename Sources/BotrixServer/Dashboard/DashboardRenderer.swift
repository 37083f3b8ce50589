import Botrix
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JSONCoding
import Mustache

/// The dashboard's templates, compiled into the binary (`Assets/*.mustache`, embedded by
/// the package), parsed once at start. `{{name}}` escapes HTML; the templates use no
/// triple mustache, so everything a user or worker typed is shown as text.
struct DashboardRenderer: Sendable {
    let library: MustacheLibrary

    /// Every template by name; a page, its live region and the partials they include.
    static let templates: [(String, [UInt8])] = [
        ("layout", PackageResources.layout_mustache),
        ("login", PackageResources.login_mustache),
        ("error", PackageResources.error_mustache),
        ("overview", PackageResources.overview_mustache),
        ("overview_live", PackageResources.overview_live_mustache),
        ("jobs", PackageResources.jobs_mustache),
        ("jobs_live", PackageResources.jobs_live_mustache),
        ("job", PackageResources.job_mustache),
        ("job_live", PackageResources.job_live_mustache),
        ("job_row", PackageResources.job_row_mustache),
        ("cancel", PackageResources.cancel_mustache),
        ("accounts", PackageResources.accounts_mustache),
        ("account", PackageResources.account_mustache),
        ("account_live", PackageResources.account_live_mustache),
        ("account_row", PackageResources.account_row_mustache),
        ("timeline", PackageResources.timeline_mustache),
        ("pager", PackageResources.pager_mustache),
        ("events", PackageResources.events_mustache),
        ("replay", PackageResources.replay_mustache),
        ("health", PackageResources.health_mustache),
    ]

    init() throws {
        var library = MustacheLibrary()
        for (name, bytes) in Self.templates {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// A whole page, or (for `?fragment=1`) only the template that fills its live region.
    func page(
        _ template: String, _ model: [String: Any], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) -> Response {
        response(render(template, model), status: status, headers: headers)
    }

    func render(_ template: String, _ model: [String: Any]) -> String {
        library.render(model, withTemplate: template) ?? "template \(template) is missing"
    }

    func response(_ html: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        for (name, value) in Self.securityHeaders { headers[name] = value }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// Sent with every page: nothing but the dashboard's own files may run or load, no
    /// other site may frame it, and pages are never cached (they show live data and a
    /// form token).
    static let securityHeaders: [(HTTPField.Name, String)] = [
        (
            .contentSecurityPolicy,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        (.xContentTypeOptions, "nosniff"),
        (.init("X-Frame-Options")!, "DENY"),
        (.init("Referrer-Policy")!, "same-origin"),
        (.cacheControl, "no-store"),
    ]
}

/// The stylesheet and the script, served from memory. Pages link them with `?v=` and the
/// content's hash, so they may be cached for a year: a new binary links new URLs.
struct DashboardAssets: Sendable {
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
        var etag: String
    }

    let assets: [String: Asset]
    /// The first 12 hex digits of the SHA-256 of both files.
    let version: String

    init() {
        func asset(_ bytes: [UInt8], _ type: String) -> Asset {
            let digest = JSONText.hex(Array(SHA256.hash(data: bytes).prefix(8)))
            return Asset(bytes: bytes, contentType: type, etag: "\"\(digest)\"")
        }
        assets = [
            "app.css": asset(PackageResources.app_css, "text/css; charset=utf-8"),
            "app.js": asset(PackageResources.app_js, "text/javascript; charset=utf-8"),
        ]
        version = String(
            JSONText.hex(Array(SHA256.hash(data: PackageResources.app_css + PackageResources.app_js))).prefix(12))
    }

    func response(_ name: String, _ request: Request) -> Response? {
        guard let asset = assets[name] else { return nil }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag,
            .cacheControl: "public, max-age=31536000, immutable", .xContentTypeOptions: "nosniff",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
