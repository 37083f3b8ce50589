import Botrix
import HTTPTypes

/// An error a dashboard page answers with an HTML page (not problem+json): a heading and a
/// sentence saying what to do.
struct DashboardProblem: Error {
    var status: HTTPResponse.Status
    var heading: String
    var detail: String
    var back: String? = nil
    /// Sent with the page (`Retry-After` of a 429).
    var headers: HTTPFields = [:]

    static func notFound(_ detail: String, back: String? = nil) -> DashboardProblem {
        DashboardProblem(status: .notFound, heading: "Not found", detail: detail, back: back)
    }

    static func crossSite(_ detail: String) -> DashboardProblem {
        DashboardProblem(
            status: .forbidden, heading: "Refused",
            detail: "\(detail): nothing was done. Reload the page and try again from it.")
    }

    static func missingScope(_ scope: Scope, key: String) -> DashboardProblem {
        DashboardProblem(
            status: .forbidden, heading: "Not allowed",
            detail: "the key \(key) lacks the \(scope.rawValue) scope this needs: sign in with a key that has it")
    }

    static func badInput(_ detail: String, back: String? = nil) -> DashboardProblem {
        DashboardProblem(status: .badRequest, heading: "Bad input", detail: detail, back: back)
    }

    /// Any other error, as the API would describe it (status and detail of its problem).
    init(_ error: any Error) {
        if let problem = error as? DashboardProblem {
            self = problem
            return
        }
        let problem = Problem(error)
        self.init(status: problem.status, heading: problem.title, detail: problem.detail, headers: problem.headers)
    }

    init(
        status: HTTPResponse.Status, heading: String, detail: String, back: String? = nil, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.heading = heading
        self.detail = detail
        self.back = back
        self.headers = headers
    }
}
