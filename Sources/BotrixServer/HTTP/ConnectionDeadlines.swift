import NIOCore
import NIOHTTPTypes

/// Closes connections that hold the server without making progress where Hummingbird's
/// idle timeout cannot see it:
/// - a request whose body has not arrived whole `bodyDeadline` after its head: the route's
///   body reader answers 408 at BODY_TIMEOUT_SECONDS, but a body no route reads (a 401, a
///   404, a GET with a body) is drained by the server, and a client trickling it would
///   otherwise keep the connection — and one of MAX_CONNECTIONS — for ever;
/// - a client that stops reading its answers: once the socket has not been writable for
///   `writeStall`, the connection is closed instead of buffering answers without end;
/// - a client that hung up (end of input) while its request is still being worked on — a
///   long-poll claim: the connection is closed at once, so the request learns it (its
///   `closeFuture`) instead of holding work for nobody. HTTP clients do not half-close.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let bodyDeadline: TimeAmount
    private let writeStall: TimeAmount
    private var bodyTimer: Scheduled<Void>?
    private var stallTimer: Scheduled<Void>?

    init(bodyDeadline: TimeAmount, writeStall: TimeAmount) {
        self.bodyDeadline = bodyDeadline
        self.writeStall = writeStall
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            bodyTimer?.cancel()
            bodyTimer = schedule(in: bodyDeadline, context)
        case .end:
            bodyTimer?.cancel()
            bodyTimer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil {
            stallTimer = schedule(in: writeStall, context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed = event as? ChannelEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelTimers() }

    private func schedule(in delay: TimeAmount, _ context: ChannelHandlerContext) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) { context.close(promise: nil) }
    }

    private func cancelTimers() {
        bodyTimer?.cancel()
        stallTimer?.cancel()
        bodyTimer = nil
        stallTimer = nil
    }
}
