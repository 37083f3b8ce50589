import Botrix
import HTTPTypes
import Hummingbird

/// The first answer to an idempotent request, as stored beside its command: two bytes of
/// status, the headers a client acts on (ETag, Location), then the JSON body. Replays
/// carry them again with `Idempotent-Replayed: true`.
enum StoredAnswer {
    /// The headers kept with an answer.
    static let kept: [HTTPField.Name] = [.eTag, .location]

    static func encode(status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8]) -> [UInt8] {
        var bytes = [UInt8(status.code >> 8), UInt8(status.code & 0xFF)]
        let fields = kept.compactMap { name in headers[name].map { (name, Array($0.utf8.prefix(1024))) } }
        bytes.append(UInt8(fields.count))
        for (name, value) in fields {
            bytes.append(UInt8(kept.firstIndex(of: name)!))
            bytes += [UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
        }
        return bytes + body
    }

    static func response(_ stored: [UInt8]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .idempotentReplayed: "true"]
        guard stored.count >= 3 else { return Response(status: .internalServerError) }
        let status = HTTPResponse.Status(code: Int(stored[0]) << 8 | Int(stored[1]))
        var at = 3
        for _ in 0..<Int(stored[2]) {
            guard at + 3 <= stored.count, Int(stored[at]) < kept.count else {
                return Response(status: .internalServerError)
            }
            let name = kept[Int(stored[at])]
            let length = Int(stored[at + 1]) << 8 | Int(stored[at + 2])
            guard at + 3 + length <= stored.count else { return Response(status: .internalServerError) }
            headers[name] = String(decoding: stored[(at + 3)..<(at + 3 + length)], as: UTF8.self)
            at += 3 + length
        }
        if status == .noContent { return Response(status: status, headers: headers) }
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored[at...])))
    }
}
