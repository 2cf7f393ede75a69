import FTPProtocol
import NIOCore
import NIOSSL

/// Writes replies on the control connection and waits until each one is on the socket, so a client that stops
/// reading replies stops the session (and so the reading of its commands) instead of growing a buffer.
///
/// Control and data channels are wrapped as `NIOAsyncChannel`s with no outbound writer (`Never`): an outbound writer
/// must be finished before it is released, and a channel the server has accepted but not yet handed over (during a
/// shutdown, or an extra connection to a passive port) would break that rule.
package struct ReplyWriter: Sendable {
    let channel: any Channel

    package init(channel: any Channel) {
        self.channel = channel
    }

    package func write(_ reply: FTPReply) async throws {
        try await self.channel.writeAndFlush(reply)
    }

    /// Answers AUTH with `reply` (234) and starts TLS right behind it, in the codec, on the event loop (see
    /// ``FTPControlCodec``). Throws when the codec refused (bytes behind AUTH: the connection is being closed).
    package func startTLS(_ reply: FTPReply, context: NIOSSLContext) async throws {
        try await self.channel.triggerUserOutboundEvent(ControlCodecRequest.startTLS(reply: reply, context: context))
            .get()
    }

    /// Answers a refused AUTH with `reply`, then lets the codec read the next commands.
    package func refuseAuth(_ reply: FTPReply) async throws {
        try await self.write(reply)
        try await self.channel.triggerUserOutboundEvent(ControlCodecRequest.resumeDecoding).get()
    }
}
