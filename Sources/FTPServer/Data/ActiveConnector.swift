import FTPProtocol
import NIOCore
import NIOPosix

/// Active mode (PORT/EPRT): we connect to the client, only to its own address and only to unprivileged ports.
package enum ActiveConnector {
    /// Why a PORT/EPRT target is refused.
    package enum Refusal: Error, Hashable {
        case foreignAddress
        case privilegedPort
    }

    /// Checks a PORT/EPRT target against the control connection's peer (FTP bounce attacks go elsewhere).
    package static func validate(_ target: HostPortTarget, controlPeer: SocketAddress?) throws(Refusal) {
        guard let peer = controlPeer?.normalizedIPAddress,
            let requested = try? SocketAddress(ipAddress: target.host, port: target.port).normalizedIPAddress,
            peer == requested
        else { throw .foreignAddress }
        guard target.port >= 1024 else { throw .privilegedPort }
    }

    /// Connects to the client from the control connection's local address, within `timeout`.
    package static func connect(
        to target: HostPortTarget,
        from localAddress: SocketAddress?,
        timeout: Duration,
        setup: DataChannelSetup,
        group: any EventLoopGroup
    ) async throws -> DataConnection {
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
        if let localIP = localAddress?.normalizedIPAddress, let source = try? SocketAddress(ipAddress: localIP, port: 0)
        {
            bootstrap = bootstrap.bind(to: source)
        }
        return try await bootstrap.connect(host: target.host, port: target.port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try DataConnection.configure(channel, setup: setup)
            }
        }
    }
}

/// A host and port to connect to for an active data connection.
package typealias HostPortTarget = FTPProtocol.HostPort
