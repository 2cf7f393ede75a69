import Logging
import NIOCore
import NIOPosix

/// A listener for one passive data connection: it accepts exactly one connection, only from the control connection's
/// client address, and then closes.
package struct PassiveListener: Sendable {
    package typealias ServerChannel = NIOAsyncChannel<DataConnection.Channel, Never>

    let serverChannel: ServerChannel
    /// The port clients are told to connect to.
    package let port: Int

    /// Binds a listener on `host`, on the first free port of `ports` (tried from a random start so concurrent
    /// sessions spread out), or on a system-chosen port when all are taken or no range is set.
    package static func bind(
        host: String,
        ports: ClosedRange<Int>?,
        chunkSize: Int,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> PassiveListener {
        if let ports {
            let count = ports.count
            let start = Int.random(in: 0..<count)
            for step in 0..<count {
                let port = ports.lowerBound + (start + step) % count
                if let listener = try? await Self.bind(host: host, port: port, chunkSize: chunkSize, group: group) {
                    return listener
                }
            }
            logger.warning(
                "every passive port is in use; falling back to a port chosen by the system",
                metadata: ["ftp.passive.range": "\(ports.lowerBound)-\(ports.upperBound)"]
            )
        }
        return try await Self.bind(host: host, port: 0, chunkSize: chunkSize, group: group)
    }

    private static func bind(
        host: String,
        port: Int,
        chunkSize: Int,
        group: any EventLoopGroup
    ) async throws -> PassiveListener {
        let serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // An address literal, not a host name: no resolver round trip (getaddrinfo asks netlink) per PASV.
            .bind(to: try SocketAddress(ipAddress: host, port: port)) { child in
                child.eventLoop.makeCompletedFuture {
                    try DataConnection.configure(child, chunkSize: chunkSize)
                }
            }
        let boundPort = serverChannel.channel.localAddress?.port ?? port
        return PassiveListener(serverChannel: serverChannel, port: boundPort)
    }

    /// Waits for the client's connection. Connections from any other address are closed and logged; after `timeout`
    /// with no acceptable connection, throws ``DataConnectionError/timedOut``. The listener is closed either way.
    package func accept(
        from allowedAddress: SocketAddress?,
        timeout: Duration,
        logger: Logger
    ) async throws -> DataConnection {
        let channel = self.serverChannel.channel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await self.serverChannel.executeThenClose { inbound in
            var accepted: DataConnection?
            // Closing the listener ends this sequence once the connections already accepted are handed over; every
            // one of them is either used or closed here (an unused one must still be closed through its async
            // wrapper).
            for try await connection in inbound {
                let remote = connection.channel.remoteAddress
                if accepted == nil, allowedAddress == nil || SocketAddress.sameHost(remote, allowedAddress) {
                    accepted = DataConnection(connection)
                    channel.close(promise: nil)
                    continue
                }
                if accepted == nil {
                    logger.warning(
                        "refused a passive data connection from another address",
                        metadata: ["ftp.data.remote": "\(remote?.displayText ?? "?")"]
                    )
                }
                try? await connection.executeThenClose { _, _ in }
            }
            guard let accepted else { throw DataConnectionError.timedOut }
            return accepted
        }
    }

    /// Closes the listener without using it, closing any connection it had already accepted.
    package func close() async {
        let channel = self.serverChannel.channel
        try? await self.serverChannel.executeThenClose { inbound in
            channel.close(promise: nil)
            for try await connection in inbound {
                try? await connection.executeThenClose { _, _ in }
            }
        }
    }
}

/// Why a data connection could not be had.
package enum DataConnectionError: Error {
    /// Nothing acceptable connected (or could be connected to) in time.
    case timedOut
    /// No PASV/EPSV/PORT/EPRT before the transfer command.
    case notConfigured
}

extension SocketAddress {
    /// The IP address as text, with IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as seen when listening on `::`)
    /// given as plain IPv4.
    public var normalizedIPAddress: String? {
        guard let ip = self.ipAddress else { return nil }
        if ip.lowercased().hasPrefix("::ffff:"), ip.contains(".") {
            return String(ip.dropFirst(7))
        }
        return ip
    }

    /// `host:port` (`[host]:port` for IPv6), for logs and messages.
    public var displayText: String {
        let host = self.normalizedIPAddress ?? "?"
        let port = self.port.map(String.init) ?? "?"
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether two addresses name the same host (ports ignored, IPv4-mapped IPv6 folded).
    package static func sameHost(_ a: SocketAddress?, _ b: SocketAddress?) -> Bool {
        guard let a = a?.normalizedIPAddress, let b = b?.normalizedIPAddress else { return false }
        return a == b
    }
}
