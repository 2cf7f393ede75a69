import FTPProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import FTPServer

@Suite("Control connection framing")
struct FTPControlDecoderTests {
    @Test func splitsLinesOnCRLFAndBareLF() {
        var decoder = FTPControlDecoder(maximumLineLength: 64)
        var buffer = ByteBuffer(string: "USER a\r\nNOOP\nPW")
        #expect(decoder.nextEvent(&buffer) == .command(.user("a")))
        #expect(decoder.nextEvent(&buffer) == .command(.noop))
        #expect(decoder.nextEvent(&buffer) == nil)
        buffer.writeString("D\r\n")
        #expect(decoder.nextEvent(&buffer) == .command(.printDirectory))
    }

    @Test func overlongLineIsReportedOnceAndSkipped() {
        var decoder = FTPControlDecoder(maximumLineLength: 16)
        var buffer = ByteBuffer(string: String(repeating: "A", count: 40))
        #expect(decoder.nextEvent(&buffer) == .lineTooLong)
        buffer.writeString(String(repeating: "B", count: 40))
        #expect(decoder.nextEvent(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
        buffer.writeString("tail\r\nNOOP\r\n")
        #expect(decoder.nextEvent(&buffer) == .command(.noop))
    }

    @Test func lineJustOverTheLimitWithNewline() {
        var decoder = FTPControlDecoder(maximumLineLength: 8)
        var buffer = ByteBuffer(string: "RETR abcdef\r\nNOOP\r\n")
        #expect(decoder.nextEvent(&buffer) == .lineTooLong)
        #expect(decoder.nextEvent(&buffer) == .command(.noop))
    }

    /// Telnet IP and DM before ABOR (RFC 959 §4.1.3) are removed.
    @Test func telnetSequencesAreRemoved() {
        var decoder = FTPControlDecoder(maximumLineLength: 64)
        var buffer = ByteBuffer(bytes: [0xFF, 0xF4, 0xFF, 0xF2] + Array("ABOR\r\n".utf8))
        #expect(decoder.nextEvent(&buffer) == .command(.abort))
        buffer = ByteBuffer(bytes: [0xFF, 0xFB, 0x01] + Array("NOOP\r\n".utf8))
        #expect(decoder.nextEvent(&buffer) == .command(.noop))
    }

    @Test func invalidUTF8AndUnknownCommandsAreValues() {
        var decoder = FTPControlDecoder(maximumLineLength: 64)
        var buffer = ByteBuffer(bytes: Array("RETR ".utf8) + [0xC3, 0x28] + Array("\r\n".utf8))
        #expect(decoder.nextEvent(&buffer) == .invalidEncoding)
        buffer.writeString("BOGUS\r\n")
        guard case .invalid(let error) = decoder.nextEvent(&buffer) else {
            Issue.record("expected an invalid command")
            return
        }
        #expect(error.kind == .unknownCommand)
    }

    @Test func throughAPipeline() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FTPControlDecoder(maximumLineLength: 64)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FTPReplyEncoder()))
        try channel.writeInbound(ByteBuffer(string: "US"))
        #expect(try channel.readInbound(as: ControlEvent.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "ER x\r\nQUIT\r\n"))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.user("x")))
        #expect(try channel.readInbound(as: ControlEvent.self) == .command(.quit))
        try channel.writeOutbound(FTPReply(221, "Bye."))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "221 Bye.\r\n")
        _ = try channel.finish()
    }
}
