import Logging
import NIOCore
import Synchronization

/// The steps of a graceful shutdown, on a timer:
///
/// 1. ``begin()``: the listeners close; idle sessions get 421 and close; busy ones (a transfer in flight) go on.
/// 2. After `timeout`: transfers still running are aborted; their sessions answer 426, then 421, and close.
/// 3. `abortGrace` later: whatever is still open is closed, and the service stops waiting for it.
///
/// ``closeEverything()`` (cancellation) does all of it at once.
final class GracefulShutdown: Sendable {
    /// Between aborting the transfers and closing whatever is left: time for the 426 and 421 replies to go out.
    static let abortGrace: TimeAmount = .seconds(2)

    private struct State {
        var begun = false
        var timers: [Scheduled<Void>] = []
    }

    private let listeners: [any Channel]
    private let registry: ConnectionRegistry
    private let timeout: Duration
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let state = Mutex(State())

    init(
        listeners: [any Channel],
        registry: ConnectionRegistry,
        timeout: Duration,
        eventLoop: any EventLoop,
        logger: Logger
    ) {
        self.listeners = listeners
        self.registry = registry
        self.timeout = timeout
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Starts the graceful shutdown (once; later calls do nothing).
    func begin() {
        let first: Bool = self.state.withLock { state in
            defer { state.begun = true }
            return !state.begun
        }
        guard first else { return }
        // The sessions hear of the shutdown once the listeners are closed: a client that reads its 421 must find the
        // port closed (the listeners and the sessions may be on different event loops).
        let closed = self.listeners.map { $0.close() }
        EventLoopFuture.andAllComplete(closed, on: self.eventLoop).whenComplete { _ in
            self.shutDownSessions()
        }
    }

    /// The shutdown's second step: idle sessions get 421 and close, busy ones finish their command first, within the
    /// timeout.
    private func shutDownSessions() {
        let sessions = self.registry.beginShutdown()
        var busy = 0
        for session in sessions where session.shutDown() {
            busy += 1
        }
        self.logger.info(
            "shutting down: no new connections",
            metadata: [
                "ftp.sessions.idle": "\(sessions.count - busy)",
                "ftp.sessions.busy": "\(busy)",
                "ftp.shutdown.timeout": "\(self.timeout.logText)s",
            ]
        )
        guard busy > 0 else { return }
        let registry = self.registry
        let logger = self.logger
        let deadline = self.eventLoop.scheduleTask(in: TimeAmount(self.timeout)) {
            let left = registry.sessions
            guard !left.isEmpty else { return }
            logger.notice(
                "shutdown deadline reached: aborting transfers still running",
                metadata: ["ftp.sessions": "\(left.count)"]
            )
            for session in left { session.abortTransfer() }
        }
        let last = self.eventLoop.scheduleTask(in: TimeAmount(self.timeout) + Self.abortGrace) {
            let left = registry.sessions
            if !left.isEmpty {
                logger.notice("closing the sessions still open", metadata: ["ftp.sessions": "\(left.count)"])
            }
            for session in left { session.forceClose() }
            registry.stopWaiting()
        }
        self.state.withLock { $0.timers += [deadline, last] }
    }

    /// Closes the listeners and every session now.
    func closeEverything() {
        self.state.withLock { $0.begun = true }
        for listener in self.listeners { listener.close(promise: nil) }
        for session in self.registry.beginShutdown() {
            session.forceClose()
        }
        self.registry.stopWaiting()
    }

    /// The service has stopped: cancels the timers still pending.
    func finish() {
        for timer in self.state.withLock({ $0.timers }) {
            timer.cancel()
        }
    }
}
