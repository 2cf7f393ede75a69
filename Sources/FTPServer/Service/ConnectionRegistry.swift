import NIOCore
import Synchronization

/// The server-wide count of control connections, in all and per client address, and the open sessions to stop at
/// shutdown.
package final class ConnectionRegistry: Sendable {
    /// Why a connection is refused.
    package enum Refusal: Error {
        case tooManyConnections
        case tooManyFromAddress
        case shuttingDown
    }

    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
        var sessions: [ObjectIdentifier: (session: SessionLifecycle, address: String)] = [:]
        var shuttingDown = false
        /// Waiting in ``waitUntilEmpty()`` for the last session to go.
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let maximumTotal: Int
    private let maximumPerAddress: Int

    package init(maximumTotal: Int, maximumPerAddress: Int) {
        self.maximumTotal = maximumTotal
        self.maximumPerAddress = maximumPerAddress
    }

    /// Counts a new session in, or says why it must be refused. `address` is the client's (normalized) address.
    package func admit(_ session: SessionLifecycle, address: String) -> Refusal? {
        self.state.withLock { state in
            if state.shuttingDown { return .shuttingDown }
            if state.total >= self.maximumTotal { return .tooManyConnections }
            if state.perAddress[address, default: 0] >= self.maximumPerAddress { return .tooManyFromAddress }
            state.total += 1
            state.perAddress[address, default: 0] += 1
            state.sessions[ObjectIdentifier(session)] = (session, address)
            return nil
        }
    }

    /// Counts a session out.
    package func release(_ session: SessionLifecycle) {
        // The address recorded at admission: a closed channel no longer knows its remote address.
        let waiters: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
            guard let address = state.sessions.removeValue(forKey: ObjectIdentifier(session))?.address else {
                return []
            }
            state.total -= 1
            let remaining = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = remaining > 0 ? remaining : nil
            guard state.total == 0 else { return [] }
            defer { state.emptyWaiters = [] }
            return state.emptyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The sessions open now, marking the registry closed to new ones.
    package func beginShutdown() -> [SessionLifecycle] {
        self.state.withLock { state in
            state.shuttingDown = true
            return state.sessions.values.map(\.session)
        }
    }

    /// The sessions open now.
    package var sessions: [SessionLifecycle] {
        self.state.withLock { state in state.sessions.values.map(\.session) }
    }

    /// Returns when no session is left (at once if none is), when ``stopWaiting()`` is called, or when the task is
    /// cancelled.
    package func waitUntilEmpty() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = self.state.withLock { state in
                    if state.total == 0 || Task.isCancelled { return true }
                    state.emptyWaiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.stopWaiting()
        }
    }

    /// Ends every ``waitUntilEmpty()`` now.
    package func stopWaiting() {
        let waiters: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
            defer { state.emptyWaiters = [] }
            return state.emptyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    package var count: Int { self.state.withLock { $0.total } }
}
