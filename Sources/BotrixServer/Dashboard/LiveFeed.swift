import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import JSONCoding
import ServiceLifecycle

/// `GET /ui/live`: the one Server-Sent Events stream of an open page. It says when the log
/// head moves (`event: head`, at most once a second, whatever the write rate), and with
/// `?events=1` (the event log's "follow") also each new event's header (`event: log`:
/// sequence, type, stream, time, actor, request id — never its data). It takes a slot of
/// the key's stream limit; when none is free it says so (`event: limit`) and ends, and the
/// page stops asking. It ends when the session ends or its key is revoked (`event: revoked`).
extension Dashboard {
    func liveFeed(_ request: Request, _ context: BotrixRequestContext) throws -> Response {
        guard let session = context.dashboardSession else {
            throw DashboardProblem(status: .unauthorized, heading: "Signed out", detail: "sign in first")
        }
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no",
        ]
        let slot: StreamSlot
        do {
            slot = try streams.take(session.key?.id ?? "open", closingWith: context.channel)
        } catch {
            var w = JSONObjectWriter()
            w.string(
                "detail",
                "\(streams.limit) live streams are open for this key (MAX_STREAMS_PER_KEY); close a page and reload")
            let text = "retry: 60000\nevent: limit\ndata: \(String(decoding: w.bytes(), as: UTF8.self))\n\n"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let withEvents = request.uri.queryParameters["events"] == "1"
        let head = try service.head().sequence
        let after = request.uri.queryParameters["after"].flatMap { UInt64(String($0)) }.map { min($0, head) } ?? head
        let stream = request.uri.queryParameters["stream"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let type = request.uri.queryParameters["type"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let (service, reads, sessions, access) = (self.service, self.reads, self.sessions, self.access)
        let handle = session.handle
        let channel = context.channel
        let keyID = session.key?.id
        let stillValid: @Sendable () -> Bool = {
            guard let keyID else { return access.isOpen }  // open mode, while it lasts
            return sessions.isLive(handle) && ((try? access.keys.isActive(id: keyID)) ?? true)
        }
        let body = ResponseBody { writer in
            defer { withExtendedLifetime(slot) {} }
            let stopping = ShutdownFlag()
            do {
                try await withGracefulShutdownHandler {
                    var sentHead = head
                    var position = after
                    var lastSend = ContinuousClock.now
                    var checked = ContinuousClock.now
                    try await writer.write(
                        ByteBuffer(string: ": live\nretry: 3000\n\nevent: head\ndata: {\"head\":\(head)}\n\n"))
                    // The connection carries only this stream, so a closed connection is a page
                    // that went away: its slot is freed within a second, not at the next write.
                    while !Task.isCancelled && !stopping.isSet && channel.isActive {
                        if ContinuousClock.now - checked >= .seconds(1) {
                            checked = ContinuousClock.now
                            guard stillValid() else {
                                try await writer.write(ByteBuffer(string: "event: revoked\ndata: {}\n\n"))
                                break
                            }
                        }
                        // Short slices, so a page that left gives its slot back within a
                        // quarter of a second (a browser clicking through pages opens them fast).
                        // Following, the last event sent is where to go on (a busy log can be
                        // ahead of it by more than one read); otherwise the last head sent.
                        let seen = withEvents ? position : sentHead
                        await service.waitForAppend(after: seen, timeout: .milliseconds(250))
                        let now = ContinuousClock.now
                        guard try service.head().sequence > seen else {
                            if now - lastSend >= .seconds(15) {
                                try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                                lastSend = now
                            }
                            continue
                        }
                        // Something new: at most one message a second (four while following the
                        // log), however fast the log grows; the wait is sliced like the one above.
                        let spacing: Duration = withEvents ? .milliseconds(250) : .seconds(1)
                        while ContinuousClock.now - lastSend < spacing, channel.isActive, !stopping.isSet {
                            try await Task.sleep(
                                for: min(.milliseconds(250), spacing - (ContinuousClock.now - lastSend)))
                        }
                        guard channel.isActive else { break }
                        var chunk = ""
                        if withEvents {
                            let from = position
                            let (text, last) = try await reads.run { () throws -> (String, UInt64?) in
                                let page = try service.read(after: from, limit: 100)
                                var text = ""
                                for event in page
                                where (stream == nil || event.stream == stream) && (type == nil || event.type == type) {
                                    text +=
                                        "event: log\ndata: \(String(decoding: Self.header(event), as: UTF8.self))\n\n"
                                }
                                return (text, page.last?.sequence)
                            }
                            chunk += text
                            if let last { position = last }
                        }
                        let current = try service.head().sequence
                        if current != sentHead {
                            chunk += "event: head\ndata: {\"head\":\(current)}\n\n"
                            sentHead = current
                        }
                        if chunk.isEmpty { continue }  // only events the filter leaves out
                        try await writer.write(ByteBuffer(string: chunk))
                        lastSend = ContinuousClock.now
                    }
                } onGracefulShutdown: {
                    stopping.set()
                }
            } catch {
                return  // the page went away
            }
            try? await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// What the follow view shows of an event: no data, so no secret can be in it.
    static func header(_ event: RecordedEvent) -> [UInt8] {
        var w = JSONObjectWriter()
        w.int("seq", event.sequence)
        w.string("type", event.type)
        w.string("stream", event.stream)
        w.string("recorded_at", Timestamp.rfc3339(milliseconds: event.recordedAt))
        w.string("actor", event.metadata["actor"] ?? "")
        w.string("request_id", event.metadata["request_id"] ?? "")
        return w.bytes()
    }
}
