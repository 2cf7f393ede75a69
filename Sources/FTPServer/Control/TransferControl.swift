import FTPProtocol
import Logging
import NIOCore
import Synchronization

/// The transfer a session is running, shared by the session's task and its control channel's handlers: the handler
/// (``ControlIdleHandler``) answers ABOR, STAT and NOOP on the event loop while the session's task is busy with the
/// transfer, and the stalled-transfer watchdog and the shutdown read it too.
package final class TransferControl: Sendable {
    package struct Snapshot: Sendable {
        package var isActive: Bool
        package var description: String
        package var bytes: Int64
    }

    private struct State {
        var channel: (any Channel)?
        var isActive = false
        var aborted = false
        var description = ""
        var bytes: Int64 = 0
        /// Bumped while the transfer waits on purpose (bandwidth pacing), so that the stalled-transfer watchdog
        /// does not take our own wait for a stalled client.
        var pacingTicks: UInt64 = 0
    }

    private let state = Mutex(State())
    /// When the last transfer ended (the idle clock restarts there: a client may still be reading what the kernel
    /// buffered for it).
    private let lastEnded = Mutex<NIODeadline?>(nil)

    package init() {}

    /// A transfer starts on `channel`.
    /// Calling it again for the same channel only renames the transfer: an abort asked in between stands.
    package func begin(_ description: String, channel: any Channel) {
        self.state.withLock { state in
            if state.isActive, let current = state.channel, current === channel {
                state.description = description
                return
            }
            state = State(channel: channel, isActive: true, description: description)
        }
    }

    /// The transfer is over; returns whether it was aborted, and the bytes it moved.
    package func end() -> (aborted: Bool, bytes: Int64) {
        self.lastEnded.withLock { $0 = .now() }
        return self.state.withLock { state in
            let result = (state.aborted, state.bytes)
            state = State()
            return result
        }
    }

    /// Whether an abort was asked for the running transfer.
    package var isAborted: Bool { self.state.withLock { $0.aborted } }

    /// Stops the running transfer by closing its data connection. Returns false when none was running.
    @discardableResult
    package func abort() -> Bool {
        let channel: (any Channel)? = self.state.withLock { state in
            guard state.isActive else { return nil }
            state.aborted = true
            return state.channel
        }
        guard let channel else { return false }
        channel.close(promise: nil)
        return true
    }

    /// The transfer is waiting on purpose (bandwidth pacing): not stalled.
    package func noteProgress() {
        self.state.withLock { $0.pacingTicks &+= 1 }
    }

    /// What the stalled-transfer watchdog compares from one look to the next: bytes moved and pacing waits.
    package var progressMark: (bytes: Int64, pacingTicks: UInt64) {
        self.state.withLock { ($0.bytes, $0.pacingTicks) }
    }

    package func addBytes(_ count: Int) {
        self.state.withLock { $0.bytes += Int64(count) }
    }

    /// Whether a transfer ended less than `interval` ago.
    package func endedWithin(_ interval: TimeAmount) -> Bool {
        guard let ended = self.lastEnded.withLock({ $0 }) else { return false }
        return NIODeadline.now() - ended < interval
    }

    package var snapshot: Snapshot {
        self.state.withLock { Snapshot(isActive: $0.isActive, description: $0.description, bytes: $0.bytes) }
    }
}

/// The control connection's handler for what must happen while the session's task is busy with a transfer, or
/// cannot look: the idle timeout, and the commands answered at once during a transfer.
///
/// - The idle timeout closes the connection with 421, unless a transfer is running (a long download keeps the
///   control connection silent, and that is not idleness).
/// - During a transfer, ABOR closes the transfer's data connection and goes up to the session (which answers 226 once
///   the transfer has ended with its 426); STAT without an argument and NOOP are answered here. Any other command
///   waits in the async channel's buffer until the transfer ends (RFC 959 §5.3.1 lets a server queue them).
/// - A closed control connection aborts a running transfer: its client is gone.
///
/// The session's task therefore only ever reads its commands one by one; no second task per connection waits on the
/// socket.
package final class ControlIdleHandler: ChannelDuplexHandler {
    package typealias InboundIn = ControlEvent
    package typealias InboundOut = ControlEvent
    package typealias OutboundIn = FTPReply
    package typealias OutboundOut = FTPReply

    private let transfers: TransferControl
    private let timeout: TimeAmount
    private let logger: Logger?
    private let commandLogLevel: Logger.Level
    /// When the last command (or any control event) came, or the connection opened.
    private var lastRead = NIODeadline.now()
    /// The idle check, due one timeout after the last read; nil when the timeout is off or the channel is closed.
    /// Kept here rather than in NIO's `IdleStateHandler`: one handler less in every idle session's pipeline.
    private var idleCheck: Scheduled<Void>?

    package init(
        transfers: TransferControl,
        timeout: TimeAmount,
        logger: Logger? = nil,
        commandLogLevel: Logger.Level = .info
    ) {
        self.transfers = transfers
        self.timeout = timeout
        self.logger = logger
        self.commandLogLevel = commandLogLevel
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.startIdleCheck(context: context) }
    }

    package func channelActive(context: ChannelHandlerContext) {
        self.startIdleCheck(context: context)
        context.fireChannelActive()
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        self.idleCheck?.cancel()
        self.idleCheck = nil
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastRead = .now()
        guard case .command(let command) = self.unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let reply: FTPReply
        switch command {
        case .abort:
            // Stops the transfer if one runs; the session answers ABOR itself, after the transfer's 426.
            self.transfers.abort()
            context.fireChannelRead(data)
            return
        case .status(nil), .noop:
            let snapshot = self.transfers.snapshot
            guard snapshot.isActive else {
                context.fireChannelRead(data)
                return
            }
            if case .noop = command {
                reply = FTPReply(200, "NOOP command successful.")
            } else {
                reply = FTPReply(213, "Transfer in progress: \(snapshot.description), \(snapshot.bytes) bytes so far.")
            }
        default:
            context.fireChannelRead(data)
            return
        }
        context.writeAndFlush(self.wrapOutboundOut(reply), promise: nil)
        self.logger?.logCommand(command, reply: reply.code, level: self.commandLogLevel)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        self.idleCheck?.cancel()
        self.idleCheck = nil
        // The client is gone: a running transfer has no one to report to.
        self.transfers.abort()
        context.fireChannelInactive()
    }

    private func startIdleCheck(context: ChannelHandlerContext) {
        guard self.idleCheck == nil, self.timeout > .zero else { return }
        self.lastRead = .now()
        self.scheduleIdleCheck(in: self.timeout, context: context)
    }

    private func scheduleIdleCheck(in delay: TimeAmount, context: ChannelHandlerContext) {
        self.idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.idleCheckDue(context: context)
        }
    }

    /// One timeout after the last read, unless something was read since (then the check moves to one timeout after
    /// that read).
    private func idleCheckDue(context: ChannelHandlerContext) {
        self.idleCheck = nil
        guard context.channel.isActive else { return }
        let quiet = NIODeadline.now() - self.lastRead
        if quiet < self.timeout {
            self.scheduleIdleCheck(in: self.timeout - quiet, context: context)
            return
        }
        // Not idle while a transfer runs, nor within one timeout of its end: look again one timeout later.
        if self.transfers.snapshot.isActive || self.transfers.endedWithin(self.timeout) {
            self.scheduleIdleCheck(in: self.timeout, context: context)
            return
        }
        self.closeForIdleness(context: context)
    }

    private func closeForIdleness(context: ChannelHandlerContext) {
        let reply = FTPReply(421, "Control connection timed out.")
        self.logger?.info(
            "idle timeout: closing the control connection",
            metadata: ["ftp.reply": "421", "ftp.timeout": "\(self.timeout.nanoseconds / 1_000_000_000)s"]
        )
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(reply), promise: written)
        let channel = context.channel
        // Close once the 421 is out, or after a bounded wait when the client does not read it either.
        let fallback = context.eventLoop.scheduleTask(in: min(self.timeout, .seconds(10))) {
            channel.close(promise: nil)
        }
        written.futureResult.whenComplete { _ in
            fallback.cancel()
            channel.close(promise: nil)
        }
    }
}
