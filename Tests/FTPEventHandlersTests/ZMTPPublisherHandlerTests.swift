import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import FTPEventHandlers

/// One subscriber connection's PUB side, on an `EmbeddedChannel` (the same handlers as a real connection).
@Suite("ZMTP publisher handler")
struct ZMTPPublisherHandlerTests {
    /// A connected channel with the publisher's pipeline; our greeting already read off it.
    static func connected(minorVersion: UInt8 = 1) throws -> (EmbeddedChannel, ZMTPSubscriberRegistry) {
        let registry = ZMTPSubscriberRegistry(logger: Logger(label: "test"))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ZMTPDecoder()))
        try channel.pipeline.syncOperations.addHandler(
            ZMTPPublisherHandler(
                highWaterMark: 2,
                handshakeTimeout: .seconds(10),
                minorVersion: minorVersion,
                registry: registry,
                logger: Logger(label: "test")
            )
        )
        registry.add(channel)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5556)).wait()
        let greeting = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(greeting == ZMTP.greeting(minorVersion: minorVersion))
        return (channel, registry)
    }

    static func frames(_ frames: ZMTP.Frame...) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { ZMTP.write(frame, into: &buffer) }
        return buffer
    }

    /// Everything written so far, as frames.
    static func written(_ channel: EmbeddedChannel) throws -> [ZMTP.Frame] {
        var all = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&part) }
        var frames: [ZMTP.Frame] = []
        while let frame = try ZMTP.readFrame(from: &all, maximumSize: 1 << 20) { frames.append(frame) }
        #expect(all.readableBytes == 0)
        return frames
    }

    static func publish(_ message: String, on channel: EmbeddedChannel) {
        channel.pipeline.triggerUserOutboundEvent(ZMTPPublish(message: ByteBuffer(string: message)), promise: nil)
    }

    /// Greeting (split in two writes, as libzmq sends it) and READY from a SUB.
    static func handshake(_ channel: EmbeddedChannel, socketType: String = "SUB") throws {
        var greeting = ZMTP.greeting()
        try channel.writeInbound(greeting.readSlice(length: 10)!)
        try channel.writeInbound(greeting)
        let ready = try Self.written(channel)
        #expect(ready == [ZMTP.readyFrame([("Socket-Type", Array("PUB".utf8))])])
        try channel.writeInbound(Self.frames(ZMTP.readyFrame([("Socket-Type", Array(socketType.utf8))])))
    }

    @Test("handshake, a ZMTP 3.1 SUBSCRIBE, and only the matching messages")
    func subscribeCommand() throws {
        let (channel, registry) = try Self.connected()
        try Self.handshake(channel)
        Self.publish("chan /chan/early", on: channel)
        #expect(try Self.written(channel).isEmpty, "nothing before a subscription")
        try channel.writeInbound(Self.frames(ZMTP.commandFrame(name: "SUBSCRIBE", data: Array("chan".utf8))))
        #expect(registry.subscriptionCount == 1)
        Self.publish("chan /chan/a.txt", on: channel)
        Self.publish("other /other/b.txt", on: channel)
        #expect(try Self.written(channel) == [ZMTP.Frame(body: ByteBuffer(string: "chan /chan/a.txt"))])
        try channel.writeInbound(Self.frames(ZMTP.commandFrame(name: "CANCEL", data: Array("chan".utf8))))
        Self.publish("chan /chan/c.txt", on: channel)
        #expect(try Self.written(channel).isEmpty)
        #expect(registry.subscriptionCount == 0)
        _ = try channel.finish()
    }

    @Test("ZMTP 3.0 subscriptions as messages (1/0 + topic); continuation frames are not subscriptions")
    func subscribeMessage() throws {
        let (channel, registry) = try Self.connected(minorVersion: 0)
        try Self.handshake(channel, socketType: "XSUB")
        try channel.writeInbound(
            Self.frames(
                ZMTP.Frame(body: ByteBuffer(bytes: [1] + Array("a".utf8))),
                ZMTP.Frame(more: true, body: ByteBuffer(string: "data")),
                ZMTP.Frame(body: ByteBuffer(bytes: [1] + Array("b".utf8)))
            )
        )
        #expect(registry.subscriptionCount == 1, "the frame after a MORE frame continues a message")
        Self.publish("a /a/1", on: channel)
        Self.publish("b /b/1", on: channel)
        #expect(try Self.written(channel).map { String(buffer: $0.body) } == ["a /a/1"])
        try channel.writeInbound(Self.frames(ZMTP.Frame(body: ByteBuffer(bytes: [0] + Array("a".utf8)))))
        Self.publish("a /a/2", on: channel)
        #expect(try Self.written(channel).isEmpty)
        _ = try channel.finish()
    }

    @Test("PING is answered with PONG and its context")
    func ping() throws {
        let (channel, _) = try Self.connected()
        try Self.handshake(channel)
        try channel.writeInbound(Self.frames(ZMTP.commandFrame(name: "PING", data: [0, 10, 0xAB, 0xCD])))
        #expect(try Self.written(channel) == [ZMTP.commandFrame(name: "PONG", data: [0xAB, 0xCD])])
        _ = try channel.finish()
    }

    @Test("a PUB peer is refused with ERROR and the connection closes")
    func wrongSocketType() throws {
        let (channel, _) = try Self.connected()
        try Self.handshake(channel, socketType: "PUB")
        #expect(try Self.written(channel) == [ZMTP.errorFrame("Invalid socket type")])
        #expect(!channel.isActive)
    }

    @Test("refused at once: not ZMTP, ZMTP 2, another mechanism, a message before READY")
    func protocolErrors() throws {
        var (channel, _) = try Self.connected()
        _ = try? channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        #expect(!channel.isActive, "HTTP is not ZMTP")

        (channel, _) = try Self.connected()
        var version2 = ZMTP.greeting()
        version2.setInteger(UInt8(2), at: 10)
        _ = try? channel.writeInbound(version2)
        #expect(!channel.isActive, "ZMTP 2.0")

        (channel, _) = try Self.connected()
        var plain = ZMTP.greeting()
        plain.setBytes(Array("PLAIN".utf8), at: 12)
        _ = try? channel.writeInbound(plain)
        #expect(!channel.isActive, "PLAIN mechanism")

        (channel, _) = try Self.connected()
        try channel.writeInbound(ZMTP.greeting())
        _ = try? channel.writeInbound(Self.frames(ZMTP.Frame(body: ByteBuffer(bytes: [1]))))
        #expect(!channel.isActive, "a message before READY")
    }

    @Test("a frame over 64 KiB from a subscriber closes its connection before it is buffered")
    func oversizedFrame() throws {
        let (channel, _) = try Self.connected()
        try Self.handshake(channel)
        var header = ByteBuffer(bytes: [0x02])
        header.writeInteger(UInt64(1 << 30))
        _ = try? channel.writeInbound(header)
        #expect(!channel.isActive)
    }
}
