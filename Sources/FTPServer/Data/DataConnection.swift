import NIOCore

/// One open data connection, plain TCP (PROT P adds TLS here later, without changing the transfer code).
///
/// Sending keeps a small window of writes in flight: the next chunk is read from storage while the previous ones go
/// out, and a slow client stops the reading once the window is full. Receiving is pulled chunk by chunk through
/// `NIOAsyncChannel`'s inbound watermarks: a slow backend stops the reads from the socket.
package struct DataConnection: Sendable {
    package typealias Channel = NIOAsyncChannel<ByteBuffer, Never>

    package let asyncChannel: Channel
    /// Whether `sendfile` may be used (plain TCP: always, until TLS arrives).
    package var supportsFileRegions: Bool { true }

    package init(_ asyncChannel: Channel) {
        self.asyncChannel = asyncChannel
    }

    package var channel: any NIOCore.Channel { self.asyncChannel.channel }

    /// The configuration every data channel gets when it is wrapped (inbound: at most 8 chunks buffered).
    package static let asyncConfiguration = Channel.Configuration(
        backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
        isOutboundHalfClosureEnabled: false,
        inboundType: ByteBuffer.self,
        outboundType: Never.self
    )

    /// Socket options for data channels: reads of up to `chunkSize` bytes.
    package static func configure(_ channel: any NIOCore.Channel, chunkSize: Int) throws -> Channel {
        let sync = channel.pipeline.syncOperations
        _ = sync  // handlers for TLS go here
        try channel.syncOptions?.setOption(
            .recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: chunkSize)
        )
        try channel.syncOptions?.setOption(
            .writeBufferWaterMark,
            value: .init(low: chunkSize, high: chunkSize * 2)
        )
        return try Channel(wrappingChannelSynchronously: channel, configuration: Self.asyncConfiguration)
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
