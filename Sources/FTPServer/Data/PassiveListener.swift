import Logging
import NIOCore
import NIOPosix

/// A listener for one passive data connection: it accepts exactly one connection, only from the control connection's
/// client address, and then closes.
///
/// Built on `ServerBootstrap`'s channel initializer and one promise rather than an `NIOAsyncChannel` of accepted
/// connections: the listener lives for one connection, and the async wrapper's generic sequence machinery (set up,
/// iterated and torn down once per PASV) was a visible share of the server's CPU when a client moves thousands of
/// small files.
package struct PassiveListener: Sendable {
    let serverChannel: any Channel
    /// The port clients are told to connect to.
    package let port: Int
    /// Succeeds with the accepted connection once it is active; fails when the listener closes without one.
    private let connection: EventLoopFuture<DataConnection>

    /// Binds a listener on `host`, on the first free port of `ports` (tried from a random start so concurrent
    /// sessions spread out), or on a system-chosen port when all are taken or no range is set. Only a connection from
    /// `allowedAddress` (the control connection's client; nil: any) is accepted; others are closed and logged.
    package static func bind(
        host: String,
        ports: ClosedRange<Int>?,
        allowedAddress: SocketAddress?,
        setup: DataChannelSetup,
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws -> PassiveListener {
        if let ports {
            let count = ports.count
            let start = Int.random(in: 0..<count)
            for step in 0..<count {
                let port = ports.lowerBound + (start + step) % count
                let listener = try? await Self.bind(
                    host: host,
                    port: port,
                    allowedAddress: allowedAddress,
                    setup: setup,
                    eventLoop: eventLoop,
                    logger: logger
                )
                if let listener { return listener }
            }
            logger.warning(
                "every passive port is in use; falling back to a port chosen by the system",
                metadata: ["ftp.passive.range": "\(ports.lowerBound)-\(ports.upperBound)"]
            )
        }
        return try await Self.bind(
            host: host,
            port: 0,
            allowedAddress: allowedAddress,
            setup: setup,
            eventLoop: eventLoop,
            logger: logger
        )
    }

    private static func bind(
        host: String,
        port: Int,
        allowedAddress: SocketAddress?,
        setup: DataChannelSetup,
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws -> PassiveListener {
        // An address literal, not a host name: no resolver round trip (getaddrinfo asks netlink) per PASV.
        let address = try SocketAddress(ipAddress: host, port: port)
        let promise = eventLoop.makePromise(of: DataConnection.self)
        // Whether a connection was taken; read and written on `eventLoop` only (the listener's and its children's).
        let claimed = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: eventLoop)
        let bootstrap = ServerBootstrap(group: eventLoop)
            .serverChannelOption(.backlog, value: 4)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                // A refused child is closed here; the bootstrap then drops it without registering it.
                let remote = child.remoteAddress
                guard !claimed.value else {
                    child.close(promise: nil)
                    return child.eventLoop.makeSucceededVoidFuture()
                }
                guard allowedAddress == nil || SocketAddress.sameHost(remote, allowedAddress) else {
                    logger.warning(
                        "refused a passive data connection from another address",
                        metadata: ["ftp.data.remote": "\(remote?.displayText ?? "?")"]
                    )
                    child.close(promise: nil)
                    return child.eventLoop.makeSucceededVoidFuture()
                }
                claimed.value = true
                do {
                    let connection = try DataConnection.configure(child, setup: setup)
                    try child.pipeline.syncOperations.addHandler(Handoff(connection: connection, promise: promise))
                } catch {
                    promise.fail(error)
                    child.parent?.close(promise: nil)
                    return child.eventLoop.makeFailedFuture(error)
                }
                return child.eventLoop.makeSucceededVoidFuture()
            }
        let serverChannel: any Channel
        do {
            serverChannel = try await bootstrap.bind(to: address).get()
        } catch {
            promise.fail(error)
            throw error
        }
        // However the listener closes, a transfer still waiting for its connection stops waiting (after a handoff,
        // failing the promise again changes nothing).
        serverChannel.closeFuture.whenComplete { _ in promise.fail(DataConnectionError.timedOut) }
        let boundPort = serverChannel.localAddress?.port ?? port
        return PassiveListener(serverChannel: serverChannel, port: boundPort, connection: promise.futureResult)
    }

    /// Hands the accepted connection over once it is active (registered and connected), and closes the listener.
    private final class Handoff: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        private let connection: DataConnection
        private let promise: EventLoopPromise<DataConnection>

        init(connection: DataConnection, promise: EventLoopPromise<DataConnection>) {
            self.connection = connection
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            self.promise.succeed(self.connection)
            context.channel.parent?.close(promise: nil)
            context.fireChannelActive()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            // Closed before it became active: the transfer waiting for it gets no connection.
            self.promise.fail(DataConnectionError.timedOut)
        }
    }

    /// Waits for the client's connection. After `timeout` with no acceptable connection, throws
    /// ``DataConnectionError/timedOut``. The listener is closed either way.
    package func accept(timeout: Duration) async throws -> DataConnection {
        let channel = self.serverChannel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await self.connection.get()
    }

    /// Closes the listener without using it, closing any connection it had already accepted.
    package func close() async {
        try? await self.serverChannel.close()
        if let unused = try? await self.connection.get() {
            await unused.close()
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
