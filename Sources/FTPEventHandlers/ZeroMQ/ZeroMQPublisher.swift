import CoreMetrics
import FTPServer
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The original FsTPy's `--pubport`: a ZeroMQ PUB socket that announces every file received as one single-frame
/// message `"<first path segment> <path>"`, so subscribers can subscribe to a top-level folder.
///
/// The path is the one the client sees (inside its home), as in the original, whose handler did
/// `socket.send_string('{0} {1}'.format(file.split('/')[1], file))` with pyftpdlib's path of the received file. An
/// upload of `/sensors/2026/a.csv` is published as `sensors /sensors/2026/a.csv`; one of `/top.txt` as
/// `top.txt /top.txt`. Incomplete uploads are not published.
///
/// Any ZeroMQ SUB (or XSUB) socket can connect (`tcp://host:port`); the wire protocol (ZMTP 3.1, NULL security) is
/// implemented in ZMTP.swift and ZMTPPublisherHandler.swift. As with a libzmq PUB socket, topics are filtered on the
/// publisher's side, a subscriber that does not keep up loses messages past its high-water mark instead of slowing
/// anyone down, and nothing is kept for subscribers that connect later.
///
/// Bind it before serving, give it to the server as an event handler, and run it in the same `ServiceGroup`
/// (listed before the ``FTPService``, so it stops after the server's last event): it closes on graceful shutdown.
public final class ZeroMQPublisher: FTPEventHandler, Service {
    /// Bounds for each subscriber.
    public struct Configuration: Sendable {
        /// Messages queued for one subscriber before further ones are dropped for it. Defaults to 1000 (libzmq's
        /// `ZMQ_SNDHWM`).
        public var highWaterMark: Int
        /// How long a new connection may take to complete the ZMTP handshake. Defaults to 10 seconds.
        public var handshakeTimeout: Duration
        /// The ZMTP minor version announced (1: SUBSCRIBE/CANCEL may come as commands; 0: as messages). Both forms
        /// are always understood; tests set 0 to drive the ZMTP 3.0 form through a real libzmq.
        package var minorVersion: UInt8 = 1

        public init(highWaterMark: Int = 1000, handshakeTimeout: Duration = .seconds(10)) {
            self.highWaterMark = highWaterMark
            self.handshakeTimeout = handshakeTimeout
        }
    }

    private let serverChannel: any Channel
    private let registry: ZMTPSubscriberRegistry
    private let logger: Logger

    /// The bound address (the port, when bound to port 0).
    public let localAddress: SocketAddress

    private init(serverChannel: any Channel, registry: ZMTPSubscriberRegistry, logger: Logger) throws {
        guard let address = serverChannel.localAddress else {
            throw ChannelError.unknownLocalAddress
        }
        self.serverChannel = serverChannel
        self.registry = registry
        self.logger = logger
        self.localAddress = address
    }

    /// Listens for subscribers on `host:port`.
    public static func bind(
        host: String,
        port: Int,
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "fstpy.zeromq")
    ) async throws -> ZeroMQPublisher {
        let registry = ZMTPSubscriberRegistry(logger: logger)
        let highWaterMark = max(1, configuration.highWaterMark)
        let handshakeTimeout = TimeAmount(configuration.handshakeTimeout)
        let minorVersion = configuration.minorVersion
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(ZMTPDecoder()))
                    try sync.addHandler(
                        ZMTPPublisherHandler(
                            highWaterMark: highWaterMark,
                            handshakeTimeout: handshakeTimeout,
                            minorVersion: minorVersion,
                            registry: registry,
                            logger: logger
                        )
                    )
                    registry.add(channel)
                }
            }
            .bind(host: host, port: port)
            .get()
        let publisher = try ZeroMQPublisher(serverChannel: channel, registry: registry, logger: logger)
        logger.info("ZeroMQ PUB socket listening", metadata: ["zmq.address": "\(publisher.localAddress.displayText)"])
        return publisher
    }

    /// The message the original published for this event: `"<first path segment> <path>"` for `file_received`, nil
    /// for every other event.
    public static func message(for event: FTPEvent) -> String? {
        guard event.kind == .fileReceived, let path = event.transfer?.path else { return nil }
        // Python's `path.split('/')[1]`: the text between the first and the second slash.
        let segment = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().first ?? ""
        return "\(segment) \(path)"
    }

    public func handle(_ event: FTPEvent) async {
        guard let message = Self.message(for: event) else { return }
        self.publish(message)
    }

    /// Sends one single-frame message (UTF-8) to every subscriber whose subscriptions match it. Never waits.
    public func publish(_ message: String) {
        let payload = ZMTPPublish(message: ByteBuffer(string: message))
        for channel in self.registry.channels {
            channel.triggerUserOutboundEvent(payload, promise: nil)
        }
    }

    /// Subscriptions held by connected subscribers, in all (a topic subscribed twice counts twice).
    public var subscriptionCount: Int { self.registry.subscriptionCount }

    /// Messages dropped because a subscriber's queue was at its high-water mark.
    public var droppedMessages: Int64 { self.registry.drops.total }

    /// Serves until graceful shutdown or cancellation, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await self.close()
    }

    /// Stops listening and disconnects every subscriber.
    public func close() async {
        try? await self.serverChannel.close()
        for channel in self.registry.channels {
            try? await channel.close()
        }
    }
}

/// The publisher's connections and their subscription counts; shared by the publisher and every connection's handler.
package final class ZMTPSubscriberRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var topics = 0
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    let drops: DropReporter

    init(logger: Logger) {
        self.drops = DropReporter(
            warning: "ZeroMQ subscriber at its high-water mark: messages dropped",
            logger: logger,
            counter: Counter(label: "fstpy_zeromq_dropped_total")
        )
    }

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.entries.withLock { $0[id] = Entry(channel: channel) }
        channel.closeFuture.whenComplete { _ in
            self.entries.withLock { _ = $0.removeValue(forKey: id) }
        }
    }

    func update(_ channel: any Channel, topics: Int) {
        self.entries.withLock { $0[ObjectIdentifier(channel)]?.topics = topics }
    }

    func dropped() {
        self.drops.dropped()
    }

    var channels: [any Channel] { self.entries.withLock { $0.values.map(\.channel) } }

    var subscriptionCount: Int { self.entries.withLock { $0.values.reduce(0) { $0 + $1.topics } } }
}
