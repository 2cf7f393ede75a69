import Foundation
import Logging
import NIOCore
import NIOSSL

/// How data channels are set up: socket tuning, and TLS under PROT P.
package struct DataChannelSetup: Sendable {
    /// Bytes read from the socket at a time (and the write watermarks' unit).
    package var chunkSize: Int
    /// TLS for PROT P, or nil for a clear data connection.
    package var tls: TLS?
    /// The socket's receive buffer (see ``FTPService/Configuration/Limits/dataReceiveBuffer``), or nil.
    package var receiveBuffer: Int?

    /// The data connection is a TLS server on the control session's context (RFC 4217 §7: the FTP server is the TLS
    /// server in both passive and active mode).
    package struct TLS: Sendable {
        package var context: NIOSSLContext
        /// Refuse a data connection that does not resume the control connection's TLS session.
        package var requireSessionReuse: Bool
        /// How long the client has to finish the handshake.
        package var handshakeTimeout: TimeAmount
        package var logger: Logger
    }

    package init(chunkSize: Int, tls: TLS? = nil, receiveBuffer: Int? = nil) {
        self.chunkSize = chunkSize
        self.tls = tls
        self.receiveBuffer = receiveBuffer.flatMap(Self.applicableReceiveBuffer)
    }

    /// `size` when the system lets a process set a receive buffer that large (`net.core.rmem_max`), nil otherwise
    /// (and where the limit cannot be read: not Linux).
    package static func applicableReceiveBuffer(_ size: Int) -> Int? {
        guard let limit = Self.systemReceiveBufferLimit, size <= limit else { return nil }
        return size
    }

    /// `net.core.rmem_max`, read once (a small procfs file).
    package static let systemReceiveBufferLimit: Int? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/core/rmem_max", encoding: .utf8) else { return nil }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }()
}

/// One open data connection, plain TCP or TLS (PROT P); the transfer code does not see the difference, except that
/// `sendfile` only works on plain TCP.
///
/// Sending keeps a small window of writes in flight: the next chunk is read from storage while the previous ones go
/// out, and a slow client stops the reading once the window is full. Receiving is pulled chunk by chunk through
/// `NIOAsyncChannel`'s inbound watermarks: a slow backend stops the reads from the socket.
///
/// A plain connection is wrapped in an `NIOAsyncChannel` only when it receives (STOR, APPE, STOU), or when the client
/// sends or closes before the transfer takes the connection (see ``InboundGate``): until then it reads nothing
/// (auto-read off, the bytes wait in the socket), and downloads and listings write to the channel directly. Setting up
/// and tearing down the async wrapper for every download was a visible share of the server's CPU when a client fetches
/// thousands of small files. A TLS connection is wrapped at once: its handshake needs reads from the start.
package struct DataConnection: Sendable {
    package typealias AsyncChannel = NIOAsyncChannel<ByteBuffer, Never>

    package let channel: any NIOCore.Channel
    /// The async wrapper made when the channel was set up (TLS), or nil: a plain connection's gate makes it.
    private let asyncChannel: AsyncChannel?
    /// A plain connection's gate (touched on the channel's event loop only); nil for TLS.
    private let gate: NIOLoopBound<InboundGate>?
    /// The TLS handshake's outcome, for a protected connection; nil for plain TCP.
    package let tlsStatus: DataTLSStatus?
    /// Whether `sendfile` may be used: plain TCP only (TLS encrypts in user space; `NIOSSLHandler` takes only
    /// `ByteBuffer`s).
    package var supportsFileRegions: Bool { self.tlsStatus == nil }

    /// Whether the TLS handshake completed and the connection was accepted (false for plain TCP).
    package var tlsHandshakeSucceeded: Bool {
        switch self.tlsStatus?.outcome {
        case .resumed, .fullHandshake: true
        default: false
        }
    }

    private init(
        channel: any NIOCore.Channel,
        asyncChannel: AsyncChannel?,
        gate: NIOLoopBound<InboundGate>?,
        tlsStatus: DataTLSStatus?
    ) {
        self.channel = channel
        self.asyncChannel = asyncChannel
        self.gate = gate
        self.tlsStatus = tlsStatus
    }

    /// The configuration of the async wrapper (inbound: at most 8 chunks buffered).
    package static let asyncConfiguration = AsyncChannel.Configuration(
        backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
        isOutboundHalfClosureEnabled: false,
        inboundType: ByteBuffer.self,
        outboundType: Never.self
    )

    /// Sets up a data channel in its bootstrap initializer: socket options for reads of up to `chunkSize` bytes and the
    /// receive buffer, and for PROT P the TLS server handler, its handshake observer and the async wrapper; a plain
    /// channel stops reading until a transfer receives on it.
    package static func configure(_ channel: any NIOCore.Channel, setup: DataChannelSetup) throws -> DataConnection {
        let chunkSize = setup.chunkSize
        try channel.syncOptions?.setOption(
            .recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: chunkSize)
        )
        try channel.syncOptions?.setOption(
            .writeBufferWaterMark,
            value: .init(low: chunkSize, high: chunkSize * 2)
        )
        if let receiveBuffer = setup.receiveBuffer {
            try channel.syncOptions?.setOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        guard let tls = setup.tls else {
            try channel.syncOptions?.setOption(.autoRead, value: false)
            let gate = InboundGate()
            try channel.pipeline.syncOperations.addHandler(gate)
            return DataConnection(
                channel: channel,
                asyncChannel: nil,
                gate: NIOLoopBound(gate, eventLoop: channel.eventLoop),
                tlsStatus: nil
            )
        }
        let sync = channel.pipeline.syncOperations
        let tlsStatus = DataTLSStatus()
        try sync.addHandler(NIOSSLServerHandler(context: tls.context))
        try sync.addHandler(
            TLSHandshakeObserver(
                requireResumption: tls.requireSessionReuse,
                timeout: tls.handshakeTimeout,
                status: tlsStatus,
                logger: tls.logger
            )
        )
        try sync.addHandler(TLSPlaintextBatcher(chunkSize: chunkSize))
        let asyncChannel = try AsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: Self.asyncConfiguration
        )
        return DataConnection(channel: channel, asyncChannel: asyncChannel, gate: nil, tlsStatus: tlsStatus)
    }

    /// Runs `body` with a sender, then shuts the connection down for writing once every byte is written (so the client
    /// reads the end of the data) and closes it, also when `body` throws.
    package func send(_ body: (inout Sender) async throws -> Void) async throws {
        if let asyncChannel = self.asyncChannel {
            try await asyncChannel.executeThenClose { _, _ in
                var sender = self.makeSender()
                try await body(&sender)
                await self.finishSending()
            }
            return
        }
        do {
            // Taken for sending: what the client might still send, or its close, no longer needs a wrapper.
            try await self.onLoop { self.gate?.value.standDown() }
            var sender = self.makeSender()
            try await body(&sender)
            await self.finishSending()
        } catch {
            await self.close()
            throw error
        }
        await self.close()
    }

    /// Runs `body` with the connection's inbound bytes, then closes the connection, also when `body` throws.
    package func receive(_ body: (NIOAsyncChannelInboundStream<ByteBuffer>) async throws -> Void) async throws {
        let asyncChannel: AsyncChannel
        do {
            asyncChannel = try await self.wrappedForReceiving()
        } catch {
            await self.close()
            throw error
        }
        try await asyncChannel.executeThenClose { inbound, _ in
            try await body(inbound)
        }
    }

    /// Closes a connection no transfer used (or whose transfer ended).
    package func close() async {
        if let asyncChannel = self.asyncChannel {
            try? await asyncChannel.executeThenClose { _, _ in }
            return
        }
        // The wrapper the gate made, if any; otherwise the gate stands down, so that the close itself does not make
        // one.
        let made = try? await self.onLoop { () -> AsyncChannel? in
            guard let gate = self.gate?.value else { return nil }
            if let wrapper = gate.wrapper { return wrapper }
            gate.standDown()
            return nil
        }
        if let asyncChannel = made ?? nil {
            try? await asyncChannel.executeThenClose { _, _ in }
        } else {
            try? await self.channel.close()
        }
    }

    /// The async wrapper for receiving: the TLS connection's, or a plain connection's, made by its gate now (or
    /// already, when the client sent or closed early); the channel reads from then on.
    private func wrappedForReceiving() async throws -> AsyncChannel {
        if let asyncChannel = self.asyncChannel { return asyncChannel }
        let channel = self.channel
        return try await self.onLoop {
            guard let gate = self.gate?.value else { throw ChannelError.ioOnClosedChannel }
            let made = try gate.open(channel)
            if channel.isActive {
                try channel.syncOptions?.setOption(.autoRead, value: true)
            }
            return made
        }
    }

    /// Runs `body` on the channel's event loop (at once when already there), where the gate may be touched.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let loop = self.channel.eventLoop
        if loop.inEventLoop {
            return try body()
        }
        return try await loop.submit(body).get()
    }

    /// Shuts the connection down for writing once every byte is written, so the client reads the end of the data.
    /// Nothing here fails a transfer: a client that closed first has simply finished early.
    package func finishSending() async {
        try? await self.channel.close(mode: .output)
    }

    /// A sender with a window of `window` writes in flight.
    package func makeSender(window: Int = 4) -> Sender {
        Sender(channel: self.channel, window: window)
    }

    /// Writes buffers with a bounded number in flight.
    package struct Sender {
        let channel: any NIOCore.Channel
        let window: Int
        private var inFlight: [EventLoopFuture<Void>] = []
        private var head = 0

        init(channel: any NIOCore.Channel, window: Int) {
            self.channel = channel
            self.window = window
        }

        /// Queues one buffer; suspends while `window` earlier writes are still on their way.
        package mutating func send(_ buffer: ByteBuffer) async throws {
            self.inFlight.append(self.channel.writeAndFlush(buffer))
            while self.inFlight.count - self.head >= self.window {
                try await self.inFlight[self.head].get()
                self.head += 1
            }
            if self.head > 64 {
                self.inFlight.removeFirst(self.head)
                self.head = 0
            }
        }

        /// Sends a file region with `sendfile`.
        package mutating func send(_ region: FileRegion) async throws {
            self.inFlight.append(self.channel.writeAndFlush(IOData.fileRegion(region)))
            try await self.finish()
        }

        /// Waits until everything queued has been written to the socket.
        package mutating func finish() async throws {
            while self.head < self.inFlight.count {
                try await self.inFlight[self.head].get()
                self.head += 1
            }
            self.inFlight.removeAll()
            self.head = 0
        }
    }
}

/// The first handler of a plain data channel, which does not read until a transfer receives on it (auto-read off).
///
/// NIO still reads a socket at once when the client closes it (to see the end of the stream): a client that sends a
/// small upload and closes before the server has taken the connection (some send right behind STOR, without waiting
/// for the 150 reply) would otherwise have its bytes, or its empty upload's end, pass through a pipeline that nobody
/// listens to. So the first read, end or error that comes before the transfer makes the async wrapper here, on the
/// event loop and before the event goes on, and the transfer finds the bytes in it.
final class InboundGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// The async wrapper, once made (by the gate, or by a transfer that receives).
    private(set) var wrapper: DataConnection.AsyncChannel?
    /// Whether the gate lets events pass without making the wrapper: the connection was taken for sending, or is
    /// being closed unused.
    private var isStoodDown = false

    /// From now on, events pass without making the wrapper. On the channel's event loop.
    func standDown() {
        self.isStoodDown = true
    }

    /// Makes the async wrapper behind this handler, once. On the channel's event loop.
    func open(_ channel: any Channel) throws -> DataConnection.AsyncChannel {
        if let wrapper = self.wrapper { return wrapper }
        let wrapper = try DataConnection.AsyncChannel(
            wrappingChannelSynchronously: channel,
            configuration: DataConnection.asyncConfiguration
        )
        self.wrapper = wrapper
        return wrapper
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.openBeforeForwarding(context)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.openBeforeForwarding(context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.openBeforeForwarding(context)
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        self.openBeforeForwarding(context)
        context.fireUserInboundEventTriggered(event)
    }

    private func openBeforeForwarding(_ context: ChannelHandlerContext) {
        if self.wrapper == nil, !self.isStoodDown {
            _ = try? self.open(context.channel)
        }
    }
}
