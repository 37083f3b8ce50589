import Botrix
import HTTPTypes
import Hummingbird

/// The first answer to an idempotent request, as stored beside its command: two bytes
/// of status, then the JSON body. Replays carry `Idempotent-Replayed: true`.
enum StoredAnswer {
    static func encode(status: HTTPResponse.Status, body: [UInt8]) -> [UInt8] {
        [UInt8(status.code >> 8), UInt8(status.code & 0xFF)] + body
    }

    static func response(_ stored: [UInt8]) -> Response {
        guard stored.count >= 2 else { return Response(status: .internalServerError) }
        let status = HTTPResponse.Status(code: Int(stored[0]) << 8 | Int(stored[1]))
        return Response(
            status: status, headers: [.contentType: "application/json", .idempotentReplayed: "true"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: stored.dropFirst(2))))
    }
}
