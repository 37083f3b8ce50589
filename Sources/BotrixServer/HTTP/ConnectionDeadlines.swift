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
    /// When the body of the request whose head came last must have arrived; nil once it has.
    private var bodyDue: NIODeadline?

    init(bodyDeadline: TimeAmount, writeStall: TimeAmount) {
        self.bodyDeadline = bodyDeadline
        self.writeStall = writeStall
    }

    /// The body's timer is armed only when a read from the socket ends with a request still
    /// incomplete (``channelReadComplete(context:)``), for the time its head arrived plus
    /// `bodyDeadline`. Most requests (every GET) arrive whole in one read: arming a timer at
    /// the head and cancelling it at the end cost 3% of the server's CPU on such requests.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            bodyTimer?.cancel()
            bodyTimer = nil
            bodyDue = .now() + bodyDeadline
        case .end:
            bodyTimer?.cancel()
            bodyTimer = nil
            bodyDue = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let bodyDue, bodyTimer == nil {
            bodyTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: bodyDue) {
                context.close(promise: nil)
            }
        }
        context.fireChannelReadComplete()
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
        bodyDue = nil
        bodyTimer?.cancel()
        stallTimer?.cancel()
        bodyTimer = nil
        stallTimer = nil
    }
}
