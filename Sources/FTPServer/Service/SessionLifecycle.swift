import FTPProtocol
import NIOCore
import Synchronization

/// Where one control connection stands with respect to a graceful shutdown: between commands (idle), running one
/// (busy), or told to stop. Shared by the session's task and the service's shutdown.
///
/// The session asks before each command and reports after it; the shutdown closes an idle session at once, and
/// asks a busy one to stop after the command it runs (a transfer in flight ends with its own 226 first). The
/// transitions happen under one lock, so a command never starts on a session the shutdown has just closed.
package final class SessionLifecycle: Sendable {
    /// Valid transitions: `idle` → `busy` (a command starts) → `idle` (it ends); `idle` → `closed` (shutdown);
    /// `busy` → `draining` (shutdown) → `closed` (the command ends); any → `closed` (forced close).
    private enum State {
        case idle
        case busy
        case draining
        case closed
    }

    package let channel: any Channel
    package let transfers: TransferControl
    private let state = Mutex(State.idle)

    package static let shutdownReply = FTPReply(421, "Server shutting down.")

    package init(channel: any Channel, transfers: TransferControl) {
        self.channel = channel
        self.transfers = transfers
    }

    /// A command is about to run. False when the session has been closed by a shutdown: it must end.
    package func commandStarted() -> Bool {
        self.state.withLock { state in
            guard case .idle = state else { return false }
            state = .busy
            return true
        }
    }

    /// The command has run. False when a shutdown came meanwhile: the session must now say 421 and end.
    package func commandFinished() -> Bool {
        self.state.withLock { state in
            switch state {
            case .busy:
                state = .idle
                return true
            case .draining, .closed, .idle:
                state = .closed
                return false
            }
        }
    }

    /// Graceful shutdown: an idle session gets 421 and is closed now; a busy one finishes its command first.
    /// Returns true when the session was busy.
    @discardableResult
    package func shutDown() -> Bool {
        let wasIdle: Bool = self.state.withLock { state in
            switch state {
            case .idle:
                state = .closed
                return true
            case .busy:
                state = .draining
                return false
            case .draining, .closed:
                return false
            }
        }
        if wasIdle { self.closeWithReply() }
        return !wasIdle
    }

    /// The shutdown deadline: aborts a transfer in flight (its session answers 426, then 421).
    package func abortTransfer() {
        self.transfers.abort()
    }

    /// Closes the session whatever it is doing.
    package func forceClose() {
        self.state.withLock { $0 = .closed }
        self.transfers.abort()
        self.closeWithReply()
    }

    private func closeWithReply() {
        let channel = self.channel
        channel.writeAndFlush(Self.shutdownReply, promise: nil)
        channel.close(promise: nil)
    }
}
