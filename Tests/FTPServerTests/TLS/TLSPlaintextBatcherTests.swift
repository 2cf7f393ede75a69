import NIOCore
import NIOEmbedded
import Testing

@testable import FTPServer

/// The batcher behind NIOSSL on protected data connections: same bytes, in order, in buffers of at most one chunk,
/// nothing held back at a read-complete, an error or the end.
@Suite("TLS plaintext batcher")
struct TLSPlaintextBatcherTests {
    func read(_ channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return buffers
    }

    @Test func batchesIntoChunksAndFlushesAtReadComplete() throws {
        let channel = EmbeddedChannel(handler: TLSPlaintextBatcher(chunkSize: 10))
        let bytes = (0..<57).map { UInt8($0) }
        // Reads of 16 KiB records' worth, here 7 bytes each, in one read cycle.
        for start in stride(from: 0, to: bytes.count, by: 7) {
            channel.pipeline.fireChannelRead(ByteBuffer(bytes: bytes[start..<min(start + 7, bytes.count)]))
        }
        let beforeComplete = try self.read(channel)
        #expect(beforeComplete.map(\.readableBytes) == [10, 10, 10, 10, 10])
        channel.pipeline.fireChannelReadComplete()
        let afterComplete = try self.read(channel)
        #expect(afterComplete.map(\.readableBytes) == [7])
        #expect((beforeComplete + afterComplete).flatMap { Array($0.readableBytesView) } == bytes)
        _ = try channel.finish()
    }

    @Test func passesPendingBytesBeforeAnErrorAndAtTheEnd() throws {
        struct Unclean: Error {}
        let channel = EmbeddedChannel(handler: TLSPlaintextBatcher(chunkSize: 100))
        channel.pipeline.fireChannelRead(ByteBuffer(string: "abc"))
        channel.pipeline.fireErrorCaught(Unclean())
        #expect(try self.read(channel).map { String(buffer: $0) } == ["abc"])
        #expect(throws: Unclean.self) { try channel.throwIfErrorCaught() }
        channel.pipeline.fireChannelRead(ByteBuffer(string: "def"))
        channel.pipeline.fireChannelInactive()
        #expect(try self.read(channel).map { String(buffer: $0) } == ["def"])
    }
}
