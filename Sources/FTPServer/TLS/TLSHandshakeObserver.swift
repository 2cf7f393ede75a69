import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// How the TLS handshake of one data connection went, readable from the transfer's task.
package final class DataTLSStatus: Sendable {
    package enum Outcome: UInt8, Sendable {
        /// Not finished (yet).
        case pending
        /// The client resumed the control connection's TLS session.
        case resumed
        /// A full handshake (allowed: session reuse is not required).
        case fullHandshake
        /// A full handshake, refused because session reuse is required.
        case refusedWithoutReuse
        /// The client did not finish the handshake in time.
        case timedOut
    }

    private let value = Atomic<UInt8>(Outcome.pending.rawValue)

    package init() {}

    package var outcome: Outcome {
        Outcome(rawValue: self.value.load(ordering: .acquiring)) ?? .pending
    }

    func set(_ outcome: Outcome) {
        self.value.store(outcome.rawValue, ordering: .releasing)
    }
}

/// Why a protected data connection was closed before any data.
package enum DataTLSError: Error, Hashable {
    /// Session reuse is required and the client made a full handshake.
    case sessionNotResumed
    /// The client did not finish the TLS handshake within the data connection timeout.
    case handshakeTimedOut
}

/// Sits behind `NIOSSLServerHandler` on a protected data connection: learns whether the handshake resumed the control
/// connection's session (``TLSSigningKey`` reports full handshakes, which sign), refuses a full handshake when reuse
/// is required, and bounds the handshake's duration. Nothing passes to the transfer before the verdict.
package final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer

    private let requireResumption: Bool
    private let timeout: TimeAmount
    private let status: DataTLSStatus
    private let logger: Logger
    private var signed = false
    /// The connection was refused: nothing more goes up.
    private var refused = false
    private var timer: Scheduled<Void>?

    package init(requireResumption: Bool, timeout: TimeAmount, status: DataTLSStatus, logger: Logger) {
        self.requireResumption = requireResumption
        self.timeout = timeout
        self.status = status
        self.logger = logger
    }

    /// Called by ``TLSSigningKey`` (on this channel's event loop) when the server signs: a full handshake.
    func fullHandshakeSigned() {
        self.signed = true
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let status = self.status
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            guard status.outcome == .pending else { return }
            status.set(.timedOut)
            bound.value.fireErrorCaught(DataTLSError.handshakeTimedOut)
            bound.value.close(promise: nil)
        }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.refused else { return }
        context.fireChannelRead(data)
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .handshakeCompleted = event as? TLSUserEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.timer?.cancel()
        self.timer = nil
        if !self.signed {
            self.status.set(.resumed)
            self.logger.debug("data connection resumed the control connection's TLS session")
        } else if self.requireResumption {
            self.status.set(.refusedWithoutReuse)
            self.refused = true
            self.logger.notice(
                "refused a data connection that did not resume the control connection's TLS session",
                metadata: ["ftp.data.remote": "\(context.channel.remoteAddress?.displayText ?? "?")"]
            )
            context.fireErrorCaught(DataTLSError.sessionNotResumed)
            context.close(promise: nil)
            return
        } else {
            self.status.set(.fullHandshake)
            self.logger.debug("data connection made a full TLS handshake (no session reuse)")
        }
        context.fireUserInboundEventTriggered(event)
    }
}
