import FTPProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import VirtualFS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The FTP server as a swift-service-lifecycle `Service`: binds (the control port, and the implicit FTPS port when
/// configured), serves every control connection in its own task, and on graceful shutdown stops accepting, closes idle
/// sessions with 421 and lets sessions with a command in flight (a transfer) finish it before their 421, up to
/// ``Configuration/Timeouts/shutdown``; then transfers still running are aborted (426) and everything is closed.
/// Cancellation closes everything at once.
///
/// ```swift
/// let fileSystem = try await FileSystemRegistry.standard.open("osfs://./ftp-root")
/// let authorizer = try await MD5Authorizer(fileSystem: fileSystem, credentialsFile: "credentials.txt")
/// let server = FTPService(configuration: .init(port: 2121), fileSystem: fileSystem, authorizer: authorizer)
/// try await ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
/// ```
public struct FTPService: Service {
    private let context: ServerContext
    private let onServerRunning: (@Sendable (SocketAddress) -> Void)?
    private let onImplicitTLSRunning: (@Sendable (SocketAddress) -> Void)?

    /// - Parameters:
    ///   - configuration: addresses, limits, timeouts.
    ///   - fileSystem: what is served; each user sees the part below their home.
    ///   - authorizer: checks logins.
    ///   - logger: where sessions and transfers are logged.
    ///   - eventLoopGroup: the NIO threads; the process-wide singleton by default.
    ///   - onServerRunning: called once with the bound address (useful with port 0).
    ///   - onImplicitTLSRunning: called once with the implicit FTPS port's bound address, when there is one; before
    ///     `onServerRunning`.
    public init(
        configuration: Configuration = Configuration(),
        fileSystem: any VirtualFileSystem,
        authorizer: any Authorizer,
        logger: Logger = Logger(label: "fstpy"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onServerRunning: (@Sendable (SocketAddress) -> Void)? = nil,
        onImplicitTLSRunning: (@Sendable (SocketAddress) -> Void)? = nil
    ) {
        self.context = ServerContext(
            configuration: configuration,
            fileSystem: fileSystem,
            authorizer: authorizer,
            group: eventLoopGroup,
            logger: logger,
            loginBans: configuration.loginBan.map(LoginBans.init(policy:)),
            bandwidth: BandwidthLimits(configuration.bandwidth),
            events: EventDispatcher(monitoring: configuration.monitoring, logger: logger)
        )
        self.onServerRunning = onServerRunning
        self.onImplicitTLSRunning = onImplicitTLSRunning
    }

    public func run() async throws {
        let configuration = self.context.configuration
        let context = self.context
        // Event handlers run beside the sessions, and get what is still buffered once the last session is over.
        async let eventsDelivered: Void = context.events.deliver()
        let registry = ConnectionRegistry(
            maximumTotal: configuration.limits.maximumConnections,
            maximumPerAddress: configuration.limits.maximumConnectionsPerAddress
        )
        var implicitServer: ServerChannel?
        if let implicitPort = configuration.tls.implicitPort {
            guard let identity = configuration.tls.identity else {
                throw FTPServiceError(message: "an implicit FTPS port needs a TLS certificate and key")
            }
            let server = try await Self.bind(port: implicitPort, context: context, implicitTLS: identity)
            guard let address = server.channel.localAddress else {
                throw FTPServiceError(message: "the implicit FTPS socket has no address")
            }
            context.logger.info("listening for implicit FTPS", metadata: ["ftp.address": "\(address.displayText)"])
            self.onImplicitTLSRunning?(address)
            implicitServer = server
        }
        let server: ServerChannel
        do {
            server = try await Self.bind(port: configuration.port, context: context, implicitTLS: nil)
        } catch {
            try? await implicitServer?.executeThenClose { _ in }
            throw error
        }
        guard let address = server.channel.localAddress else {
            throw FTPServiceError(message: "the listening socket has no address")
        }
        context.logger.info("listening", metadata: ["ftp.address": "\(address.displayText)"])
        if let wanted = configuration.limits.dataReceiveBuffer,
            DataChannelSetup.applicableReceiveBuffer(wanted) == nil
        {
            context.logger.notice(
                "data connections keep the kernel's receive buffer sizing: the system does not allow the configured size",
                metadata: [
                    "ftp.data.receive-buffer": "\(wanted)",
                    "net.core.rmem_max": "\(DataChannelSetup.systemReceiveBufferLimit.map(String.init) ?? "unknown")",
                ]
            )
        }
        self.onServerRunning?(address)

        let servers = [server] + (implicitServer.map { [$0] } ?? [])
        let shutdown = GracefulShutdown(
            listeners: servers.map(\.channel),
            registry: registry,
            timeout: configuration.timeouts.shutdown,
            eventLoop: context.group.next(),
            logger: context.logger
        )
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withThrowingDiscardingTaskGroup { listeners in
                    for listener in servers {
                        listeners.addTask {
                            try await Self.accept(
                                on: listener,
                                context: context,
                                registry: registry,
                                shutdown: shutdown
                            )
                        }
                    }
                }
            } onGracefulShutdown: {
                shutdown.begin()
            }
        } onCancel: {
            shutdown.closeEverything()
        }
        shutdown.finish()
        context.events.finish()
        await eventsDelivered
        context.logger.info("stopped")
    }

    private typealias ServerChannel = NIOAsyncChannel<AcceptedControlChannel, Never>

    private static func bind(
        port: Int,
        context: ServerContext,
        implicitTLS: TLSIdentityStore?
    ) async throws -> ServerChannel {
        let configuration = context.configuration
        let logger = context.logger
        return try await ServerBootstrap(group: context.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Urgent data inline: a client's "ABOR" sent with MSG_OOB (Python's ftplib) must not lose a byte.
            .childChannelOption(.socketOption(.init(rawValue: SO_OOBINLINE)), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Command lines are short: small receive buffers, since an idle session keeps its last one for reuse.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 16 * 1024)
            )
            .bind(host: configuration.host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.setUpControlChannel(
                        channel,
                        configuration: configuration,
                        implicitTLS: implicitTLS,
                        logger: logger
                    )
                }
            }
    }

    /// Serves every connection one listener accepts, each in its own task, until the listener closes.
    private static func accept(
        on server: ServerChannel,
        context: ServerContext,
        registry: ConnectionRegistry,
        shutdown: GracefulShutdown
    ) async throws {
        try await server.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                // A discarding group: finished sessions are not retained (NIO's echo server does the same).
                for try await connection in inbound {
                    group.addTask {
                        await Self.serve(connection, context: context, registry: registry)
                    }
                }
                // The listener is closed (a shutdown, or it failed): let the sessions finish, and cancel whatever is
                // left when the shutdown gives up waiting.
                shutdown.begin()
                await registry.waitUntilEmpty()
                if registry.count > 0 { group.cancelAll() }
            }
        }
    }

    /// Admits a connection and serves it, or refuses it with 421.
    ///
    /// The session's task lives as long as the client stays, and keeps the task-allocator slabs (1 KiB each) its
    /// deepest chain of frames needed: this frame holds only what the session needs (80 bytes, where the admission
    /// and the refusal written inline made it 784), the admission check is a plain function and the refusal one of
    /// its own, whose frame exists only while refusing.
    private static func serve(
        _ accepted: AcceptedControlChannel,
        context: ServerContext,
        registry: ConnectionRegistry
    ) async {
        let lifecycle = SessionLifecycle(channel: accepted.asyncChannel.channel, transfers: accepted.transfers)
        if let refusal = Self.admit(lifecycle, context: context, registry: registry) {
            await Self.refuse(accepted.asyncChannel, refusal, logger: accepted.logger, context: context)
            return
        }
        await ControlConnection.serve(
            accepted.asyncChannel,
            lifecycle: lifecycle,
            implicitTLSContext: accepted.implicitTLSContext,
            logger: accepted.logger,
            context: context
        )
        registry.release(lifecycle)
    }

    /// Why a connection is refused: for the log, and the 421's text.
    private struct Refusal {
        var reason: String
        var text: String
    }

    /// Registers the connection, or says why it is refused (a ban, a limit, a shutdown).
    @inline(never)
    private static func admit(
        _ lifecycle: SessionLifecycle,
        context: ServerContext,
        registry: ConnectionRegistry
    ) -> Refusal? {
        let address = lifecycle.channel.remoteAddress?.normalizedIPAddress ?? "?"
        if let remaining = context.loginBans?.remainingBan(for: address) {
            return Refusal(
                reason: "banned for \(remaining.logText)s more",
                text: "Too many failed logins from your address; try again later."
            )
        }
        switch registry.admit(lifecycle, address: address) {
        case nil:
            return nil
        case .tooManyConnections?:
            return Refusal(
                reason: "too many connections",
                text: "Too many connections. Service temporarily unavailable."
            )
        case .tooManyFromAddress?:
            return Refusal(
                reason: "too many connections from the address",
                text: "Too many connections from your address."
            )
        case .shuttingDown?:
            return Refusal(reason: "shutting down", text: SessionLifecycle.shutdownReply.lines.joined())
        }
    }

    /// Logs the refusal, answers 421 and closes.
    @inline(never)
    private static func refuse(
        _ connection: ControlConnection.ControlChannel,
        _ refusal: Refusal,
        logger: Logger,
        context: ServerContext
    ) async {
        // The logger already names the client (`ftp.client`).
        logger.notice("connection refused", metadata: ["ftp.reason": "\(refusal.reason)", "ftp.reply": "421"])
        try? await connection.executeThenClose { _, _ in
            try await ReplyWriter(channel: connection.channel, timeout: context.configuration.timeouts.replyWrite)
                .write(FTPReply(421, refusal.text))
        }
    }

    /// The control pipeline: TLS on the implicit port; line framing with its limit, reply encoding and AUTH TLS; the
    /// idle timeout; then the async session.
    private static func setUpControlChannel(
        _ channel: any Channel,
        configuration: Configuration,
        implicitTLS: TLSIdentityStore?,
        logger: Logger
    ) throws -> AcceptedControlChannel {
        let sync = channel.pipeline.syncOperations
        let transfers = TransferControl()
        // One logger value for the session's handler, replies and commands: they share its metadata storage until the
        // session adds the user (a copy for each would cost every idle session a dictionary more).
        let clientLogger = logger.with(client: channel)
        var implicitTLSContext: NIOSSLContext?
        if let implicitTLS {
            let tlsContext = try implicitTLS.makeSessionContext()
            try sync.addHandler(NIOSSLServerHandler(context: tlsContext))
            implicitTLSContext = tlsContext
        }
        try sync.addHandler(
            FTPControlCodec(maximumLineLength: configuration.limits.maximumLineLength, logger: logger)
        )
        try sync.addHandler(
            ControlIdleHandler(
                transfers: transfers,
                timeout: TimeAmount(configuration.timeouts.idle),
                logger: clientLogger,
                commandLogLevel: configuration.commandLogLevel
            )
        )
        let asyncChannel = try ControlConnection.ControlChannel(
            wrappingChannelSynchronously: channel,
            configuration: .init(
                backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4),
                isOutboundHalfClosureEnabled: false,
                inboundType: ControlEvent.self,
                outboundType: Never.self
            )
        )
        return AcceptedControlChannel(
            asyncChannel: asyncChannel,
            transfers: transfers,
            implicitTLSContext: implicitTLSContext,
            logger: clientLogger
        )
    }
}

/// A control connection as the bootstrap hands it over: the async channel, the transfer state its idle handler
/// consults, and its TLS context when it came in on the implicit FTPS port.
struct AcceptedControlChannel: Sendable {
    var asyncChannel: ControlConnection.ControlChannel
    var transfers: TransferControl
    var implicitTLSContext: NIOSSLContext?
    /// The server's logger with the client's address.
    var logger: Logger
}

/// A failure to start the server.
public struct FTPServiceError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}
