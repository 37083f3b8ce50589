import Foundation

/// Many HTTP requests through one `curl --parallel` process (an independent client that
/// really opens `parallel` connections at once), with every status and body returned in
/// the order given. Status 0 means no answer (connection refused or reset).
public struct CurlBatch {
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var body: String?
        public init(_ method: String, _ url: String, body: String? = nil) {
            self.method = method
            self.url = url
            self.body = body
        }
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: String
        /// The response head (status line and headers), as received.
        public var head: String
    }

    /// Runs `requests` with up to `parallel` at once; bodies go through `scratch` (a folder).
    public static func run(_ requests: [Request], parallel: Int, scratch: String, maxTime: Int = 60) throws
        -> [Answer]
    {
        let id = UUID().uuidString
        var config = ""
        for (index, request) in requests.enumerated() {
            config += "url = \"\(request.url)\"\nrequest = \"\(request.method)\"\n"
            if let body = request.body {
                let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                    of: "\"", with: "\\\"")
                config += "header = \"Content-Type: application/json\"\ndata = \"\(escaped)\"\n"
            }
            config += "output = \"\(scratch)/\(id)-\(index)\"\nwrite-out = \"\(index) %{http_code}\\n\"\n"
            config += "dump-header = \"\(scratch)/\(id)-\(index).head\"\n"
            config += "max-time = \(maxTime)\nsilent\n"
            if index < requests.count - 1 { config += "next\n" }
        }
        let configPath = "\(scratch)/\(id).curl"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let result = try runProgram("/usr/bin/curl", ["--parallel", "--parallel-max", "\(parallel)", "-K", configPath])
        var statuses = [Int](repeating: 0, count: requests.count)
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let index = Int(parts[0]), let status = Int(parts[1]), index < statuses.count {
                statuses[index] = status
            }
        }
        return statuses.enumerated().map { index, status in
            let path = "\(scratch)/\(id)-\(index)"
            defer {
                try? FileManager.default.removeItem(atPath: path)
                try? FileManager.default.removeItem(atPath: path + ".head")
            }
            return Answer(
                status: status, body: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "",
                head: (try? String(contentsOfFile: path + ".head", encoding: .utf8)) ?? "")
        }
    }
}
