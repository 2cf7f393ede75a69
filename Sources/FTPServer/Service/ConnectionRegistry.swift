import NIOCore
import Synchronization

/// The server-wide count of control connections, in all and per client address, and the open ones to close at
/// shutdown.
package final class ConnectionRegistry: Sendable {
    /// Why a connection is refused.
    package enum Refusal: Error {
        case tooManyConnections
        case tooManyFromAddress
    }

    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
        var channels: [ObjectIdentifier: (channel: any Channel, address: String)] = [:]
        var shuttingDown = false
    }

    private let state = Mutex(State())
    private let maximumTotal: Int
    private let maximumPerAddress: Int

    package init(maximumTotal: Int, maximumPerAddress: Int) {
        self.maximumTotal = maximumTotal
        self.maximumPerAddress = maximumPerAddress
    }

    /// Counts a new connection in, or says why it must be refused.
    package func admit(_ channel: any Channel) -> Refusal? {
        let address = channel.remoteAddress?.normalizedIPAddress ?? "?"
        return self.state.withLock { state in
            if state.shuttingDown || state.total >= self.maximumTotal { return .tooManyConnections }
            if state.perAddress[address, default: 0] >= self.maximumPerAddress { return .tooManyFromAddress }
            state.total += 1
            state.perAddress[address, default: 0] += 1
            state.channels[ObjectIdentifier(channel)] = (channel, address)
            return nil
        }
    }

    /// Counts a connection out.
    package func release(_ channel: any Channel) {
        // The address recorded at admission: a closed channel no longer knows its remote address.
        self.state.withLock { state in
            guard let address = state.channels.removeValue(forKey: ObjectIdentifier(channel))?.address else { return }
            state.total -= 1
            let remaining = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = remaining > 0 ? remaining : nil
        }
    }

    /// The connections open now, marking the registry closed to new ones.
    package func beginShutdown() -> [any Channel] {
        self.state.withLock { state in
            state.shuttingDown = true
            return state.channels.values.map(\.channel)
        }
    }

    package var count: Int { self.state.withLock { $0.total } }
}
