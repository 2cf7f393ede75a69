import FTPProtocol
import NIOCore

/// What the control connection's framing hands to the session: a command, or a line it cannot use. Bad input is a
/// value, never an error thrown up the pipeline (that would end the session).
package enum ControlEvent: Sendable, Hashable {
    case command(FTPCommand)
    case invalid(FTPParseError)
    /// A line longer than the limit; it was discarded up to its end.
    case lineTooLong
    /// A line that is not valid UTF-8 (RFC 2640 asks for UTF-8 pathnames).
    case invalidEncoding
}

/// Splits the control stream into lines and parses each one.
///
/// Lines end with CRLF, or a bare LF (some clients). Telnet IAC sequences (the `IAC IP IAC DM` some clients send
/// before ABOR) are removed; 0xFF never occurs in UTF-8, so this cannot damage a name. A line longer than the limit
/// is dropped up to its end and reported once, so a client cannot make us buffer without bound.
/// - SeeAlso: RFC 959 §4.1.3 (ABOR and the Telnet synch), RFC 854
package struct FTPControlDecoder: ByteToMessageDecoder {
    package typealias InboundOut = ControlEvent

    private let maximumLineLength: Int
    /// True while discarding the rest of an over-long line.
    private var discarding = false

    package init(maximumLineLength: Int) {
        self.maximumLineLength = maximumLineLength
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let event = self.nextEvent(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(event))
        return .continue
    }

    package mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A last line without its newline is dropped: the client has gone.
        while let event = self.nextEvent(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(event))
        }
        buffer.clear()
        return .needMoreData
    }

    /// The next event in `buffer`, consuming its bytes, or nil when a whole line has not arrived yet.
    package mutating func nextEvent(_ buffer: inout ByteBuffer) -> ControlEvent? {
        while true {
            let view = buffer.readableBytesView
            guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                if view.count > self.maximumLineLength {
                    buffer.moveReaderIndex(forwardBy: view.count)
                    if !self.discarding {
                        self.discarding = true
                        return .lineTooLong
                    }
                }
                return nil
            }
            let lineLength = newline - view.startIndex
            let line = buffer.readSlice(length: lineLength + 1)!  // the newline is within the readable bytes
            if self.discarding {
                self.discarding = false
                continue
            }
            if lineLength + 1 > self.maximumLineLength {
                return .lineTooLong
            }
            return Self.event(fromLine: line.readableBytesView.dropLast())
        }
    }

    /// Parses one line (without its LF).
    package static func event(fromLine raw: ByteBufferView.SubSequence) -> ControlEvent {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == 0xFF {
                // Telnet IAC: IAC IAC is a literal 0xFF (never valid UTF-8, refused below); WILL/WONT/DO/DONT take one
                // option byte; anything else is a two-byte command.
                let next = raw.index(after: index)
                guard next < raw.endIndex else { break }
                switch raw[next] {
                case 0xFF:
                    bytes.append(0xFF)
                    index = raw.index(after: next)
                case 0xFB...0xFE:
                    index = min(raw.endIndex, raw.index(next, offsetBy: 2, limitedBy: raw.endIndex) ?? raw.endIndex)
                default:
                    index = raw.index(after: next)
                }
                continue
            }
            bytes.append(byte)
            index = raw.index(after: index)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard let line = String(validating: bytes, as: UTF8.self) else { return .invalidEncoding }
        do {
            return .command(try FTPCommand.parse(line))
        } catch {
            return .invalid(error)
        }
    }
}

/// Encodes replies onto the control connection.
package struct FTPReplyEncoder: MessageToByteEncoder {
    package typealias OutboundIn = FTPReply

    package init() {}

    package func encode(data: FTPReply, out: inout ByteBuffer) throws {
        data.write(to: &out)
    }
}
