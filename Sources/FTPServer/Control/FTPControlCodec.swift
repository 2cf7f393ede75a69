import FTPProtocol
import Logging
import NIOCore
import NIOSSL

/// What the session asks of the control codec after an `AUTH` command (sent as an outbound user event, so it runs on
/// the event loop in order with the replies).
package enum ControlCodecRequest: Sendable {
    /// Write and flush `reply` (234) in clear, then put TLS under everything that follows.
    case startTLS(reply: FTPReply, context: NIOSSLContext)
    /// AUTH was refused: go on reading commands in clear.
    case resumeDecoding
}

/// The control connection's framing, reply encoding and `AUTH TLS` upgrade, in one handler.
///
/// Decoding stops right after an `AUTH` command, until the session answers it. When the answer is to start TLS,
/// any byte the client sent behind its AUTH line is still here, in clear: such bytes would otherwise be taken as
/// commands protected by TLS (the STARTTLS command-injection attack, CVE-2011-0411 and kin), so the connection is
/// closed instead. Otherwise the 234 is written and flushed and `NIOSSLServerHandler` is inserted first in the
/// pipeline in the same event-loop turn, so the reply goes out in clear and everything after it is TLS.
/// - SeeAlso: RFC 4217 §4
package final class FTPControlCodec: ChannelDuplexHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ControlEvent
    package typealias OutboundIn = FTPReply
    package typealias OutboundOut = ByteBuffer

    private var decoder: FTPControlDecoder
    private let maximumLineLength: Int
    private var buffer = ByteBuffer()
    /// An AUTH command went up and has not been answered: hold everything else.
    private var awaitingAuthAnswer = false
    private let logger: Logger

    package init(maximumLineLength: Int, logger: Logger) {
        self.decoder = FTPControlDecoder(maximumLineLength: maximumLineLength)
        self.maximumLineLength = maximumLineLength
        self.logger = logger
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        if self.awaitingAuthAnswer && self.buffer.readableBytes > self.maximumLineLength {
            // A client that pours bytes behind AUTH before its answer is broken or hostile.
            self.logger.notice("closing a control connection that sent too much behind AUTH")
            context.close(promise: nil)
            return
        }
        self.decodeAvailable(context: context)
    }

    /// Sends up every whole line buffered, stopping after an AUTH; returns whether it sent anything.
    @discardableResult
    private func decodeAvailable(context: ChannelHandlerContext) -> Bool {
        var fired = false
        while !self.awaitingAuthAnswer, let event = self.decoder.nextEvent(&self.buffer) {
            if case .command(.authenticate) = event {
                self.awaitingAuthAnswer = true
            }
            context.fireChannelRead(self.wrapInboundOut(event))
            fired = true
        }
        if self.buffer.readableBytes == 0 {
            self.buffer.clear()
        } else if self.buffer.readerIndex > 4096 {
            self.buffer.discardReadBytes()
        }
        return fired
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let reply = self.unwrapOutboundIn(data)
        var out = context.channel.allocator.buffer(capacity: 64)
        reply.write(to: &out)
        context.write(self.wrapOutboundOut(out), promise: promise)
    }

    package func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?)
    {
        guard let request = event as? ControlCodecRequest else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch request {
        case .resumeDecoding:
            self.awaitingAuthAnswer = false
            promise?.succeed(())
            // Lines that arrived while AUTH was pending go up now, outside a read cycle: close it, or the async
            // channel (which delivers on read-complete) would hold them until the client sends more.
            if self.decodeAvailable(context: context) {
                context.fireChannelReadComplete()
            }
        case .startTLS(let reply, let tlsContext):
            guard self.buffer.readableBytes == 0 else {
                self.logger.warning(
                    "closing a control connection that sent data behind AUTH TLS (command injection attempt)",
                    metadata: ["ftp.client": "\(context.channel.remoteAddress?.displayText ?? "?")"]
                )
                promise?.fail(ControlCodecError.dataBehindAuth)
                context.close(promise: nil)
                return
            }
            var out = context.channel.allocator.buffer(capacity: 64)
            reply.write(to: &out)
            context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
            do {
                try context.pipeline.syncOperations.addHandler(
                    NIOSSLServerHandler(context: tlsContext),
                    position: .first
                )
            } catch {
                promise?.fail(error)
                context.close(promise: nil)
                return
            }
            self.awaitingAuthAnswer = false
            promise?.succeed(())
        }
    }
}

/// Why the codec refused to start TLS.
package enum ControlCodecError: Error {
    /// Bytes were buffered behind the AUTH line.
    case dataBehindAuth
}
