import Logging
import NIOCore
import NIOSSL

/// How data channels are set up: socket tuning, and TLS under PROT P.
package struct DataChannelSetup: Sendable {
    /// Bytes read from the socket at a time (and the write watermarks' unit).
    package var chunkSize: Int
    /// TLS for PROT P, or nil for a clear data connection.
    package var tls: TLS?

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

    package init(chunkSize: Int, tls: TLS? = nil) {
        self.chunkSize = chunkSize
        self.tls = tls
    }
}

/// One open data connection, plain TCP or TLS (PROT P); the transfer code does not see the difference, except that
/// `sendfile` only works on plain TCP.
///
/// Sending keeps a small window of writes in flight: the next chunk is read from storage while the previous ones go
/// out, and a slow client stops the reading once the window is full. Receiving is pulled chunk by chunk through
/// `NIOAsyncChannel`'s inbound watermarks: a slow backend stops the reads from the socket.
package struct DataConnection: Sendable {
    package typealias Channel = NIOAsyncChannel<ByteBuffer, Never>

    package let asyncChannel: Channel
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

    package init(_ asyncChannel: Channel, tlsStatus: DataTLSStatus? = nil) {
        self.asyncChannel = asyncChannel
        self.tlsStatus = tlsStatus
    }

    /// A channel as its bootstrap initializer configured it, before the transfer takes it.
    package struct Configured: Sendable {
        package var asyncChannel: Channel
        package var tlsStatus: DataTLSStatus?
    }

    package var channel: any NIOCore.Channel { self.asyncChannel.channel }

    /// The configuration every data channel gets when it is wrapped (inbound: at most 8 chunks buffered).
    package static let asyncConfiguration = Channel.Configuration(
        backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
        isOutboundHalfClosureEnabled: false,
        inboundType: ByteBuffer.self,
        outboundType: Never.self
    )

    /// Sets up a data channel in its bootstrap initializer: socket options for reads of up to `chunkSize` bytes, and
    /// for PROT P the TLS server handler and its handshake observer.
    package static func configure(_ channel: any NIOCore.Channel, setup: DataChannelSetup) throws -> Configured {
        let chunkSize = setup.chunkSize
        var status: DataTLSStatus?
        if let tls = setup.tls {
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
            status = tlsStatus
        }
        try channel.syncOptions?.setOption(
            .recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: chunkSize)
        )
        try channel.syncOptions?.setOption(
            .writeBufferWaterMark,
            value: .init(low: chunkSize, high: chunkSize * 2)
        )
        let asyncChannel = try Channel(wrappingChannelSynchronously: channel, configuration: Self.asyncConfiguration)
        return Configured(asyncChannel: asyncChannel, tlsStatus: status)
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
