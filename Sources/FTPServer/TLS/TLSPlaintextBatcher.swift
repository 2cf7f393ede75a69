import NIOCore

/// Sits behind `NIOSSLServerHandler` on a protected data connection and hands the plaintext on in buffers of its own,
/// `chunkSize` bytes at most, so NIOSSL's read buffer is never shared.
///
/// Why: `NIOSSLHandler` decrypts every read cycle into one buffer that it keeps and reuses; while the transfer still
/// holds the buffer it passed on (an upload waits on the disk), the next cycle's write into it copies the buffer's
/// whole capacity (copy-on-write), and it grows again from 32 KiB by reallocation. Measured on a 1 GiB upload, those
/// copies cost twice the AES-GCM decryption itself. Copying the plaintext out once, into buffers that the transfer
/// owns, leaves NIOSSL's buffer unique and full-sized, and also bounds each element to `chunkSize`, the transfer's
/// memory unit.
package final class TLSPlaintextBatcher: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer

    private let chunkSize: Int
    private var pending: ByteBuffer?

    package init(chunkSize: Int) {
        self.chunkSize = chunkSize
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        while incoming.readableBytes > 0 {
            var batch = self.pending ?? context.channel.allocator.buffer(capacity: self.chunkSize)
            self.pending = nil
            let room = self.chunkSize - batch.readableBytes
            var slice = incoming.readSlice(length: min(room, incoming.readableBytes))!  // within the readable bytes
            batch.writeBuffer(&slice)
            if batch.readableBytes >= self.chunkSize {
                context.fireChannelRead(self.wrapInboundOut(batch))
            } else {
                self.pending = batch
            }
        }
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        self.flushPending(context: context)
        context.fireChannelReadComplete()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Data received before the error (e.g. an upload ended without close_notify) goes up first.
        if self.flushPending(context: context) { context.fireChannelReadComplete() }
        context.fireErrorCaught(error)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if self.flushPending(context: context) { context.fireChannelReadComplete() }
        context.fireChannelInactive()
    }

    @discardableResult
    private func flushPending(context: ChannelHandlerContext) -> Bool {
        guard let batch = self.pending, batch.readableBytes > 0 else { return false }
        self.pending = nil
        context.fireChannelRead(self.wrapInboundOut(batch))
        return true
    }
}
