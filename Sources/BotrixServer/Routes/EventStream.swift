import Botrix
import EventLog
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Synchronization

/// `GET /api/events/stream`: Server-Sent Events. Starts after `Last-Event-ID` or
/// `?after=` (or at the head: live only), sends the backlog page by page, then each new
/// event; a comment line every 15 s keeps proxies from closing an idle stream. Memory per
/// client is one page; the stream ends when the client goes, the server shuts down, or
/// the key that opened it is revoked — or, for an anonymous stream, the API stops being
/// open — (checked every second, so within one heartbeat).
struct EventStream: Sendable {
    let service: BotrixService
    let slots: StreamSlots
    /// Where backlog pages are read and encoded.
    let reads: ReadPool
    /// Asked while the stream runs; false ends it (nil: open mode, no key to check).
    var keyStillValid: (@Sendable () -> Bool)?
    var pageSize = 100
    var heartbeat: Duration = .seconds(15)

    func response(_ request: Request, _ context: BotrixRequestContext) throws -> Response {
        let head = try service.head().sequence
        let start: UInt64
        if let header = request.headers[.lastEventID] {
            guard let value = UInt64(header.trimmingCharacters(in: .whitespaces)) else {
                throw Problem.badRequest("Last-Event-ID must be the seq of the last event received")
            }
            start = value
        } else {
            start = try request.query("after", "a sequence number (0 or more)") { UInt64($0) } ?? head
        }
        let service = self.service
        let pageSize = self.pageSize
        let heartbeat = self.heartbeat
        let reads = self.reads
        let keyStillValid = self.keyStillValid
        let owner = context.apiKey?.id ?? "open"
        let channel = context.channel
        // Held by the body closure: freed with it, whether or not the body ever runs.
        let slot = try slots.take(owner, closingWith: context.channel)
        let body = ResponseBody { writer in
            defer { withExtendedLifetime(slot) {} }
            let stopping = ShutdownFlag()
            do {
                try await withGracefulShutdownHandler {
                    var position = start
                    var idle: Duration = .zero
                    try await writer.write(ByteBuffer(string: ": connected at \(head)\n\n"))
                    var checked = ContinuousClock.now
                    // A closed connection ends the stream (and frees its slot) within a second,
                    // not at the next write.
                    while !Task.isCancelled && !stopping.isSet && channel.isActive {
                        if let keyStillValid, ContinuousClock.now - checked >= .seconds(1) {
                            checked = ContinuousClock.now
                            guard keyStillValid() else {
                                try await writer.write(ByteBuffer(string: "event: revoked\ndata: {}\n\n"))
                                break
                            }
                        }
                        // Read and encode the page on the read pool, off the cooperative threads.
                        let from = position
                        let (chunk, last) = try await reads.run { () throws -> ([UInt8], UInt64?) in
                            let page = try service.read(after: from, limit: pageSize)
                            var chunk: [UInt8] = []
                            for event in page {
                                chunk += Array("id: \(event.sequence)\nevent: \(event.type)\ndata: ".utf8)
                                chunk += event.publicJSON()
                                chunk += [10, 10]
                            }
                            return (chunk, page.last?.sequence)
                        }
                        guard let last else {
                            // Wait in short slices so a shutdown ends the stream promptly.
                            await service.waitForAppend(after: position, timeout: .seconds(1))
                            idle += .seconds(1)
                            if idle >= heartbeat {
                                idle = .zero
                                try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                            }
                            continue
                        }
                        try await writer.write(ByteBuffer(bytes: chunk))
                        position = last
                        idle = .zero
                    }
                } onGracefulShutdown: {
                    stopping.set()
                }
            } catch {
                return  // the client went away: nothing more to send
            }
            try? await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: body)
    }
}

/// Set once when the server starts shutting down: streams end, heartbeats answer `shutdown`.
public final class ShutdownFlag: Sendable {
    private let flag = Mutex(false)
    public init() {}
    public var isSet: Bool { flag.withLock { $0 } }
    public func set() { flag.withLock { $0 = true } }
}
