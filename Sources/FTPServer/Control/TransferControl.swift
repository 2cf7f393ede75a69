import FTPProtocol
import Logging
import NIOCore
import Synchronization

/// What the control connection's reader needs to know about the transfer the session is running, so it can answer
/// ABOR and STAT while the session is busy with that transfer. Shared by two tasks of one connection.
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
    package func begin(_ description: String, channel: any Channel) {
        self.state.withLock { state in
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

/// Closes an idle control connection with 421, unless a transfer is running (a long download keeps the control
/// connection silent, and that is not idleness).
package final class ControlIdleHandler: ChannelDuplexHandler {
    package typealias InboundIn = ControlEvent
    package typealias InboundOut = ControlEvent
    package typealias OutboundIn = FTPReply
    package typealias OutboundOut = FTPReply

    private let transfers: TransferControl
    private let timeout: TimeAmount
    private let logger: Logger?

    package init(transfers: TransferControl, timeout: TimeAmount, logger: Logger? = nil) {
        self.transfers = transfers
        self.timeout = timeout
        self.logger = logger
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Not idle while a transfer runs, nor within one timeout of its end (the idle event comes again later).
        guard !self.transfers.snapshot.isActive, !self.transfers.endedWithin(self.timeout) else { return }
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
