import FTPProtocol
import FTPServerTesting
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import FTPServer

/// The control codec on an embedded pipeline: framing, reply encoding, and the AUTH TLS upgrade with its refusal of
/// bytes sent behind AUTH (STARTTLS command injection).
@Suite("Control codec")
struct FTPControlCodecTests {
    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            FTPControlCodec(maximumLineLength: 64, logger: Logger(label: "test"))
        )
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 2121)).wait()
        #expect(channel.isActive)
        return channel
    }

    func tlsContext() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: TLSIdentityStore.serverConfiguration(try TestCertificates().identity()))
    }

    @Test func framesCommandsAndEncodesReplies() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "US"))
        #expect(try channel.readInbound(as: ControlEvent.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "ER x\r\nQUIT\r\n"))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.user("x")))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.quit))
        try channel.writeOutbound(FTPReply(221, "Bye."))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "221 Bye.\r\n")
        _ = try channel.finish()
    }

    @Test func holdsCommandsBehindAUTHUntilItIsAnswered() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "AUTH GSSAPI\r\nNOOP\r\n"))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.authenticate("GSSAPI")))
        // NOOP waits: the answer to AUTH decides whether it is clear text or the start of a TLS handshake.
        #expect(try channel.readInbound(as: ControlEvent.self) == nil)
        try channel.writeOutbound(FTPReply(504, "No."))
        _ = try channel.readOutbound(as: ByteBuffer.self)
        let reads = ReadCompleteCounter()
        try channel.pipeline.syncOperations.addHandler(reads)
        channel.pipeline.triggerUserOutboundEvent(ControlCodecRequest.resumeDecoding, promise: nil)
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.noop))
        // The held lines end with a read-complete, which NIOAsyncChannel waits for before delivering them.
        #expect(reads.count == 1)
        _ = try channel.finish()
    }

    @Test func startsTLSRightAfterThe234() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "AUTH TLS\r\n"))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.authenticate("TLS")))
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.triggerUserOutboundEvent(
            ControlCodecRequest.startTLS(reply: FTPReply(234, "AUTH TLS successful."), context: try self.tlsContext()),
            promise: done
        )
        try done.futureResult.wait()
        // The 234 went out in clear, and the TLS handler now sits first in the pipeline.
        #expect(
            try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "234 AUTH TLS successful.\r\n"
        )
        let pipeline = channel.pipeline.debugDescription
        let tls = try #require(pipeline.range(of: "NIOSSLServerHandler"))
        let codec = try #require(pipeline.range(of: "FTPControlCodec"))
        #expect(tls.lowerBound < codec.lowerBound, "TLS must sit before the codec (nearer the socket): \(pipeline)")
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func closesWhenBytesFollowAUTHTLS() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "AUTH TLS\r\nUSER alice\r\n"))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.authenticate("TLS")))
        #expect(try channel.readInbound(as: ControlEvent.self) == nil)
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.triggerUserOutboundEvent(
            ControlCodecRequest.startTLS(reply: FTPReply(234, "AUTH TLS successful."), context: try self.tlsContext()),
            promise: done
        )
        #expect(throws: ControlCodecError.self) { try done.futureResult.wait() }
        // No 234, no TLS, no USER: the connection is closed.
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(try channel.readInbound(as: ControlEvent.self) == nil)
        #expect(!channel.isActive)
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        }
    }

    @Test func closesWhenFloodedBehindAUTH() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "AUTH TLS\r\n"))
        _ = try channel.readInbound(as: ControlEvent.self)
        try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 100)))
        #expect(!channel.isActive)
    }
}

/// Counts channelReadComplete events.
final class ReadCompleteCounter: ChannelInboundHandler {
    typealias InboundIn = ControlEvent
    var count = 0
    func channelReadComplete(context: ChannelHandlerContext) {
        self.count += 1
        context.fireChannelReadComplete()
    }
}
