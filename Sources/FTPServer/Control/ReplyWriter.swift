import FTPProtocol
import Logging
import NIOCore

/// Writes replies on the control connection and waits until each one is on the socket, so a client that stops
/// reading replies stops the session (and so the reading of its commands) instead of growing a buffer.
///
/// A reply that is not on the socket within `timeout` closes the connection (logged): a client that sends commands
/// but never reads the answers cannot hold a session, and its slot, forever.
///
/// Control and data channels are wrapped as `NIOAsyncChannel`s with no outbound writer (`Never`): an outbound writer
/// must be finished before it is released, and a channel the server has accepted but not yet handed over (during a
/// shutdown, or an extra connection to a passive port) would break that rule.
package struct ReplyWriter: Sendable {
    let channel: any Channel
    let timeout: Duration?
    let logger: Logger?

    /// - Parameters:
    ///   - timeout: how long one reply may take to reach the socket before the connection is closed; nil waits for
    ///     ever.
    ///   - logger: where a reply timeout is logged.
    package init(channel: any Channel, timeout: Duration? = nil, logger: Logger? = nil) {
        self.channel = channel
        self.timeout = timeout
        self.logger = logger
    }

    package func write(_ reply: FTPReply) async throws {
        guard let timeout = self.timeout else {
            try await self.channel.writeAndFlush(reply)
            return
        }
        let channel = self.channel
        let logger = self.logger
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            logger?.notice(
                "reply write timed out: the client does not read its replies; closing the connection",
                metadata: ["ftp.reply": "\(reply.code)", "ftp.timeout": "\(timeout.logText)s"]
            )
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await channel.writeAndFlush(reply)
    }
}
