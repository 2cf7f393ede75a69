import Logging
import NIOCore

/// What `ZMTPDecoder` hands up: the peer's greeting once, then frames.
package enum ZMTPInbound: Sendable {
    case greeting(ZMTP.Greeting)
    case frame(ZMTP.Frame)
}

/// Splits a subscriber's bytes into its greeting and then frames. A violation of the protocol is thrown (the
/// publisher handler closes the connection on any error).
package struct ZMTPDecoder: ByteToMessageDecoder {
    package typealias InboundOut = ZMTPInbound

    /// A subscriber only ever sends subscriptions and small commands: anything larger is refused before it is
    /// buffered.
    package static let maximumFrameSize = 64 * 1024

    private var greetingReceived = false

    package init() {}

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if !self.greetingReceived {
            // Refuse a peer that is not speaking ZMTP at once, rather than waiting for 64 bytes that may never come.
            if let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first != 0xFF {
                throw ZMTPError.notZMTP
            }
            guard buffer.readableBytes >= ZMTP.greetingSize else { return .needMoreData }
            let greeting = try ZMTP.parseGreeting(buffer)
            buffer.moveReaderIndex(forwardBy: ZMTP.greetingSize)
            self.greetingReceived = true
            context.fireChannelRead(Self.wrapInboundOut(.greeting(greeting)))
            return .continue
        }
        guard let frame = try ZMTP.readFrame(from: &buffer, maximumSize: Self.maximumFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(.frame(frame)))
        return .continue
    }

    package mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// A message to publish, sent down a subscriber's pipeline with `triggerUserOutboundEvent` (from any thread).
package struct ZMTPPublish: Sendable {
    package var message: ByteBuffer
}

/// The PUB side of one subscriber's connection: greeting, NULL handshake (READY with `Socket-Type: PUB`; the peer
/// must be SUB or XSUB), subscriptions (ZMTP 3.1 SUBSCRIBE/CANCEL commands, or ZMTP 3.0 messages starting with 1/0),
/// PING/PONG, and the messages it wants.
///
/// Like a libzmq PUB socket, it never waits for a slow subscriber: at most `highWaterMark` messages may be queued
/// for the socket; past that, messages for this subscriber are dropped (and counted).
package final class ZMTPPublisherHandler: ChannelDuplexHandler {
    package typealias InboundIn = ZMTPInbound
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    private enum State {
        /// Our greeting is sent; theirs has not arrived.
        case awaitingGreeting
        /// Greetings exchanged, our READY sent; theirs has not arrived.
        case awaitingReady
        /// Handshake done: subscriptions and messages flow.
        case ready
        case closed
    }

    private var state = State.awaitingGreeting
    private var subscriptions = ZMTPSubscriptions()
    /// The previous message frame had MORE set: this frame continues a message and is not a subscription.
    private var continuingMessage = false
    /// Messages written and not yet handed to the kernel.
    private var pending = 0
    private var handshakeTimeout: Scheduled<Void>?

    private let highWaterMark: Int
    private let handshakeTimeLimit: TimeAmount
    private let minorVersion: UInt8
    private let registry: ZMTPSubscriberRegistry
    private let logger: Logger

    package init(
        highWaterMark: Int,
        handshakeTimeout: TimeAmount,
        minorVersion: UInt8,
        registry: ZMTPSubscriberRegistry,
        logger: Logger
    ) {
        self.highWaterMark = highWaterMark
        self.handshakeTimeLimit = handshakeTimeout
        self.minorVersion = minorVersion
        self.registry = registry
        self.logger = logger
    }

    package func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(Self.wrapOutboundOut(ZMTP.greeting(minorVersion: self.minorVersion)), promise: nil)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.handshakeTimeout = context.eventLoop.scheduleTask(in: self.handshakeTimeLimit) {
            boundContext.value.close(promise: nil)
        }
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        self.handshakeTimeout?.cancel()
        self.registry.update(context.channel, topics: 0)
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try self.received(Self.unwrapInboundIn(data), context: context)
        } catch {
            self.fail(error, context: context)
        }
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }

    private func received(_ inbound: ZMTPInbound, context: ChannelHandlerContext) throws(ZMTPError) {
        switch (self.state, inbound) {
        case (.awaitingGreeting, .greeting(let greeting)):
            guard greeting.majorVersion >= 3 else { throw .unsupportedVersion(greeting.majorVersion) }
            guard greeting.mechanism == "NULL" else { throw .unsupportedMechanism(greeting.mechanism) }
            var out = ByteBuffer()
            ZMTP.write(ZMTP.readyFrame([("Socket-Type", Array("PUB".utf8))]), into: &out)
            context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
            self.state = .awaitingReady
        case (.awaitingReady, .frame(let frame)):
            guard frame.isCommand, case .ready(let properties) = try ZMTP.parseCommand(frame.body) else {
                throw .expectedReady
            }
            let socketType = String(decoding: properties["socket-type"] ?? [], as: UTF8.self)
            guard socketType == "SUB" || socketType == "XSUB" else {
                var out = ByteBuffer()
                ZMTP.write(ZMTP.errorFrame("Invalid socket type"), into: &out)
                context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
                throw .incompatibleSocketType(socketType)
            }
            self.handshakeTimeout?.cancel()
            self.handshakeTimeout = nil
            self.state = .ready
            self.logger.debug("ZeroMQ subscriber ready", metadata: ["zmq.socket-type": "\(socketType)"])
        case (.ready, .frame(let frame)) where frame.isCommand:
            switch try ZMTP.parseCommand(frame.body) {
            case .subscribe(let topic): self.subscribe(topic, context: context)
            case .cancel(let topic): self.cancel(topic, context: context)
            case .ping(_, let pingContext):
                var out = ByteBuffer()
                ZMTP.write(ZMTP.commandFrame(name: "PONG", data: pingContext), into: &out)
                context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
            case .error(let reason):
                self.logger.debug("ZeroMQ subscriber sent ERROR", metadata: ["zmq.reason": "\(reason)"])
                context.close(promise: nil)
            case .ready, .pong, .unknown:
                break
            }
        case (.ready, .frame(let frame)):
            // ZMTP 3.0 subscriptions are messages: 1 + topic subscribes, 0 + topic cancels. Other messages (an
            // XSUB may send any) are not for a PUB socket and are ignored.
            defer { self.continuingMessage = frame.more }
            guard !self.continuingMessage, let kind = frame.body.getInteger(at: frame.body.readerIndex, as: UInt8.self)
            else { return }
            let topic = frame.body.getBytes(at: frame.body.readerIndex + 1, length: frame.body.readableBytes - 1) ?? []
            if kind == 1 {
                self.subscribe(topic, context: context)
            } else if kind == 0 {
                self.cancel(topic, context: context)
            }
        case (.closed, _):
            break
        default:
            throw .expectedReady
        }
    }

    private func subscribe(_ topic: [UInt8], context: ChannelHandlerContext) {
        self.subscriptions.subscribe(topic)
        self.registry.update(context.channel, topics: self.subscriptions.count)
    }

    private func cancel(_ topic: [UInt8], context: ChannelHandlerContext) {
        self.subscriptions.cancel(topic)
        self.registry.update(context.channel, topics: self.subscriptions.count)
    }

    package func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?)
    {
        guard let publish = event as? ZMTPPublish else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
        guard case .ready = self.state, self.subscriptions.matches(publish.message) else { return }
        guard self.pending < self.highWaterMark else {
            self.registry.dropped()
            return
        }
        self.pending += 1
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.pending -= 1
        }
        context.writeAndFlush(Self.wrapOutboundOut(ZMTP.message(publish.message)), promise: written)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard self.state != .closed else { return }
        self.logger.debug("ZeroMQ subscriber connection closed", metadata: ["zmq.error": "\(error)"])
        self.state = .closed
        context.close(promise: nil)
    }
}
