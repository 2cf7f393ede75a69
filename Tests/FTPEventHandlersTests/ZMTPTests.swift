import NIOCore
import Testing

@testable import FTPEventHandlers

/// The ZMTP 3.x encoding, byte for byte (ZeroMQ RFC 23 and 37).
@Suite("ZMTP framing")
struct ZMTPTests {
    @Test("our greeting: signature, version 3.1, NULL, as-server 0, zero filler; 64 bytes")
    func greeting() throws {
        let bytes = ZMTP.greeting().readableBytesView.map { $0 }
        #expect(bytes.count == 64)
        #expect(Array(bytes[0..<10]) == [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F])
        #expect(Array(bytes[10..<12]) == [3, 1])
        #expect(Array(bytes[12..<16]) == Array("NULL".utf8))
        #expect(bytes[16..<64].allSatisfy { $0 == 0 })
        #expect(ZMTP.greeting(minorVersion: 0).getInteger(at: 11, as: UInt8.self) == 0)
        let parsed = try ZMTP.parseGreeting(ZMTP.greeting())
        #expect(parsed == ZMTP.Greeting(majorVersion: 3, minorVersion: 1, mechanism: "NULL", asServer: false))
    }

    @Test("a peer's greeting: version and mechanism read; a wrong signature or a short greeting refused")
    func parseGreeting() throws {
        var curve = ByteBuffer(bytes: [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 0])
        curve.writeBytes(Array("CURVE".utf8) + Array(repeating: 0, count: 15))
        curve.writeBytes([1] + Array(repeating: 0, count: 31))
        #expect(
            try ZMTP.parseGreeting(curve)
                == ZMTP.Greeting(majorVersion: 3, minorVersion: 0, mechanism: "CURVE", asServer: true)
        )
        var notZMTP = ZMTP.greeting()
        notZMTP.setInteger(UInt8(0x01), at: 0)
        #expect(throws: ZMTPError.notZMTP) { try ZMTP.parseGreeting(notZMTP) }
        var version1 = ZMTP.greeting()
        version1.setInteger(UInt8(0x7E), at: 9)
        #expect(throws: ZMTPError.notZMTP) { try ZMTP.parseGreeting(version1) }
        #expect(throws: ZMTPError.truncated) { try ZMTP.parseGreeting(ByteBuffer(bytes: [0xFF, 0, 0])) }
    }

    @Test("frames: short and long size forms, MORE and COMMAND flags")
    func writeFrames() {
        var buffer = ByteBuffer()
        ZMTP.write(ZMTP.Frame(body: ByteBuffer(string: "chan /chan/a")), into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0x00, 12] + Array("chan /chan/a".utf8))

        buffer.clear()
        ZMTP.write(ZMTP.Frame(more: true, body: ByteBuffer(string: "x")), into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0x01, 1, UInt8(ascii: "x")])

        buffer.clear()
        let long = ByteBuffer(repeating: 0x41, count: 256)
        ZMTP.write(ZMTP.Frame(body: long), into: &buffer)
        #expect(Array(buffer.readableBytesView.prefix(9)) == [0x02, 0, 0, 0, 0, 0, 0, 1, 0])
        #expect(buffer.readableBytes == 9 + 256)

        buffer.clear()
        ZMTP.write(ZMTP.commandFrame(name: "PONG", data: [7]), into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0x04, 6, 4] + Array("PONG".utf8) + [7])
    }

    @Test("READY with Socket-Type PUB, exactly as RFC 23 lays it out")
    func readyFrame() {
        var buffer = ByteBuffer()
        ZMTP.write(ZMTP.readyFrame([("Socket-Type", Array("PUB".utf8))]), into: &buffer)
        let expected: [UInt8] =
            [0x04, 25, 5] + Array("READY".utf8) + [11] + Array("Socket-Type".utf8) + [0, 0, 0, 3] + Array("PUB".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test("reading frames: whole ones taken, a partial one left untouched, limits enforced")
    func readFrames() throws {
        var stream = ByteBuffer()
        ZMTP.write(ZMTP.Frame(body: ByteBuffer(string: "one")), into: &stream)
        ZMTP.write(ZMTP.Frame(more: true, isCommand: false, body: ByteBuffer(repeating: 7, count: 300)), into: &stream)
        let whole = stream
        var partial = whole.getSlice(at: 0, length: whole.readableBytes - 1)!

        let first = try ZMTP.readFrame(from: &partial, maximumSize: 1024)
        #expect(first == ZMTP.Frame(body: ByteBuffer(string: "one")))
        let readerIndex = partial.readerIndex
        #expect(try ZMTP.readFrame(from: &partial, maximumSize: 1024) == nil)
        #expect(partial.readerIndex == readerIndex, "an incomplete frame must not be consumed")

        var all = whole
        _ = try ZMTP.readFrame(from: &all, maximumSize: 1024)
        let second = try #require(try ZMTP.readFrame(from: &all, maximumSize: 1024))
        #expect(second.more && !second.isCommand && second.body.readableBytes == 300)
        #expect(all.readableBytes == 0)

        var tooLarge = whole
        _ = try ZMTP.readFrame(from: &tooLarge, maximumSize: 1024)
        #expect(throws: ZMTPError.frameTooLarge(300)) { try ZMTP.readFrame(from: &tooLarge, maximumSize: 299) }

        var badFlags = ByteBuffer(bytes: [0x08, 0])
        #expect(throws: ZMTPError.badFlags(0x08)) { try ZMTP.readFrame(from: &badFlags, maximumSize: 10) }

        var headerOnly = ByteBuffer(bytes: [0x02, 0, 0])
        #expect(try ZMTP.readFrame(from: &headerOnly, maximumSize: 10) == nil)
    }

    @Test("commands: READY's properties, SUBSCRIBE, CANCEL, PING, ERROR, unknown ones")
    func commands() throws {
        let ready = ZMTP.readyFrame([("Socket-Type", Array("SUB".utf8)), ("Identity", [])])
        #expect(
            try ZMTP.parseCommand(ready.body)
                == .ready(properties: ["socket-type": Array("SUB".utf8), "identity": []])
        )
        #expect(
            try ZMTP.parseCommand(ZMTP.commandFrame(name: "SUBSCRIBE", data: Array("chan".utf8)).body)
                == .subscribe(topic: Array("chan".utf8))
        )
        #expect(try ZMTP.parseCommand(ZMTP.commandFrame(name: "CANCEL", data: []).body) == .cancel(topic: []))
        #expect(
            try ZMTP.parseCommand(ZMTP.commandFrame(name: "PING", data: [0x01, 0x02, 9, 9]).body)
                == .ping(ttl: 0x0102, context: [9, 9])
        )
        #expect(try ZMTP.parseCommand(ZMTP.errorFrame("nope").body) == .error(reason: "nope"))
        #expect(try ZMTP.parseCommand(ZMTP.commandFrame(name: "HELLO", data: [1]).body) == .unknown(name: "HELLO"))

        // A property whose value runs past the end, and a name longer than the body.
        var broken = ByteBuffer(bytes: [5] + Array("READY".utf8) + [4] + Array("Type".utf8) + [0, 0, 0, 9, 1])
        #expect(throws: ZMTPError.malformedCommand) { try ZMTP.parseCommand(broken) }
        broken = ByteBuffer(bytes: [9, 0x41])
        #expect(throws: ZMTPError.malformedCommand) { try ZMTP.parseCommand(broken) }
        #expect(throws: ZMTPError.malformedCommand) {
            try ZMTP.parseCommand(ZMTP.commandFrame(name: "PING", data: [1]).body)
        }
    }

    @Test("subscriptions: prefixes, the empty topic, counted like libzmq's")
    func subscriptions() {
        var subscriptions = ZMTPSubscriptions()
        #expect(!subscriptions.matches(ByteBuffer(string: "chan /chan/a")))
        subscriptions.subscribe(Array("chan".utf8))
        subscriptions.subscribe(Array("chan".utf8))
        #expect(subscriptions.count == 2)
        #expect(subscriptions.matches(ByteBuffer(string: "chan /chan/a")))
        #expect(subscriptions.matches(ByteBuffer(string: "channel /channel/b")), "a topic is a byte prefix")
        #expect(!subscriptions.matches(ByteBuffer(string: "cha")))
        #expect(!subscriptions.matches(ByteBuffer(string: "other /other/c")))
        subscriptions.cancel(Array("chan".utf8))
        #expect(subscriptions.matches(ByteBuffer(string: "chan /chan/a")), "one CANCEL undoes one SUBSCRIBE")
        subscriptions.cancel(Array("chan".utf8))
        subscriptions.cancel(Array("never".utf8))
        #expect(subscriptions.isEmpty)
        subscriptions.subscribe([])
        #expect(subscriptions.matches(ByteBuffer(string: "anything")) && subscriptions.matches(ByteBuffer()))
    }
}
