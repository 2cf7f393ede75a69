import NIOCore

/// The parts of ZMTP 3.0/3.1 (the ZeroMQ wire protocol) that a PUB socket with the NULL mechanism needs, as pure
/// values and functions over `ByteBuffer`: the greeting, frames, and the commands READY, ERROR, SUBSCRIBE, CANCEL,
/// PING and PONG.
///
/// Written here rather than taken from a library: no ZeroMQ package for Swift is among our dependencies, and linking
/// libzmq through C would add a system library to every build for the one socket type we need, which this file and
/// ZMTPPublisherHandler cover in a few hundred lines over SwiftNIO.
///
/// - SeeAlso: ZeroMQ RFC 23 (ZMTP 3.0), RFC 37 (ZMTP 3.1), RFC 29 (PUB-SUB)
package enum ZMTP {
    /// The greeting is 64 bytes: signature (10), version (2), mechanism (20), as-server (1), filler (31).
    package static let greetingSize = 64

    /// A peer's greeting.
    package struct Greeting: Hashable, Sendable {
        package var majorVersion: UInt8
        package var minorVersion: UInt8
        /// The security mechanism, e.g. `NULL`.
        package var mechanism: String
        package var asServer: Bool
    }

    /// Our greeting: ZMTP 3.`minorVersion`, NULL mechanism.
    package static func greeting(minorVersion: UInt8 = 1) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.greetingSize)
        // Signature: 0xFF, 8 bytes of padding, 0x7F. The padding is what libzmq sends (a ZMTP 1.0 length of 1), so a
        // peer that looks at it finds nothing odd.
        buffer.writeBytes([0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F])
        buffer.writeBytes([3, minorVersion])
        let mechanism = Array("NULL".utf8)
        buffer.writeBytes(mechanism + Array(repeating: 0, count: 20 - mechanism.count))
        buffer.writeInteger(UInt8(0))  // as-server: not used by NULL
        buffer.writeBytes(Array(repeating: UInt8(0), count: 31))
        return buffer
    }

    /// Reads a peer's greeting (exactly ``greetingSize`` bytes). Only the signature's two fixed bytes are checked here;
    /// the caller decides which versions and mechanisms it accepts.
    package static func parseGreeting(_ bytes: ByteBuffer) throws(ZMTPError) -> Greeting {
        guard bytes.readableBytes >= Self.greetingSize,
            let raw = bytes.getBytes(at: bytes.readerIndex, length: Self.greetingSize)
        else { throw .truncated }
        guard raw[0] == 0xFF, raw[9] & 0x01 == 0x01 else { throw .notZMTP }
        let mechanismBytes = raw[12..<32].prefix { $0 != 0 }
        return Greeting(
            majorVersion: raw[10],
            minorVersion: raw[11],
            mechanism: String(decoding: mechanismBytes, as: UTF8.self),
            asServer: raw[32] == 1
        )
    }

    /// One frame: a message part or a command.
    package struct Frame: Hashable, Sendable {
        /// More frames of the same message follow.
        package var more: Bool
        package var isCommand: Bool
        package var body: ByteBuffer

        package init(more: Bool = false, isCommand: Bool = false, body: ByteBuffer) {
            self.more = more
            self.isCommand = isCommand
            self.body = body
        }
    }

    private static let moreFlag: UInt8 = 0x01
    private static let longFlag: UInt8 = 0x02
    private static let commandFlag: UInt8 = 0x04

    /// Appends a frame: flags, size (1 byte up to 255, else 8 bytes big-endian), body.
    package static func write(_ frame: Frame, into buffer: inout ByteBuffer) {
        var flags: UInt8 = 0
        if frame.more { flags |= Self.moreFlag }
        if frame.isCommand { flags |= Self.commandFlag }
        let size = frame.body.readableBytes
        if size > 255 {
            buffer.writeInteger(flags | Self.longFlag)
            buffer.writeInteger(UInt64(size))
        } else {
            buffer.writeInteger(flags)
            buffer.writeInteger(UInt8(size))
        }
        buffer.writeImmutableBuffer(frame.body)
    }

    /// A single-frame message.
    package static func message(_ body: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(body.readableBytes + 9)
        Self.write(Frame(body: body), into: &buffer)
        return buffer
    }

    /// Takes one whole frame off the front of `buffer`; nil (consuming nothing) when it is not all there yet.
    /// Frames larger than `maximumSize` are refused before they are buffered.
    package static func readFrame(from buffer: inout ByteBuffer, maximumSize: Int) throws(ZMTPError) -> Frame? {
        let start = buffer.readerIndex
        guard let flags = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard flags & ~(Self.moreFlag | Self.longFlag | Self.commandFlag) == 0 else { throw .badFlags(flags) }
        let size: UInt64
        let headerSize: Int
        if flags & Self.longFlag != 0 {
            guard let long = buffer.getInteger(at: start + 1, as: UInt64.self) else { return nil }
            size = long
            headerSize = 9
        } else {
            guard let short = buffer.getInteger(at: start + 1, as: UInt8.self) else { return nil }
            size = UInt64(short)
            headerSize = 2
        }
        guard size <= UInt64(maximumSize) else { throw .frameTooLarge(size) }
        guard buffer.readableBytes >= headerSize + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: headerSize)
        let body = buffer.readSlice(length: Int(size))!
        return Frame(more: flags & Self.moreFlag != 0, isCommand: flags & Self.commandFlag != 0, body: body)
    }

    /// A command, as a command frame's body reads.
    package enum Command: Hashable, Sendable {
        /// The NULL handshake's only command, with its metadata (`Socket-Type`, `Identity`...).
        case ready(properties: [String: [UInt8]])
        case error(reason: String)
        /// ZMTP 3.1: start receiving messages that begin with `topic`.
        case subscribe(topic: [UInt8])
        /// ZMTP 3.1: undo one SUBSCRIBE of `topic`.
        case cancel(topic: [UInt8])
        /// ZMTP 3.1 heartbeat; answered with PONG carrying `context`.
        case ping(ttl: UInt16, context: [UInt8])
        case pong(context: [UInt8])
        /// Any other command (ignored, as the spec allows for unknown commands).
        case unknown(name: String)
    }

    /// Reads a command frame's body: name-size (1), name, data.
    package static func parseCommand(_ body: ByteBuffer) throws(ZMTPError) -> Command {
        var body = body
        guard let nameSize = body.readInteger(as: UInt8.self), let name = body.readString(length: Int(nameSize))
        else { throw .malformedCommand }
        let data = body.readBytes(length: body.readableBytes) ?? []
        switch name {
        case "READY":
            return .ready(properties: try Self.parseProperties(data))
        case "ERROR":
            guard let size = data.first, data.count >= 1 + Int(size) else { throw .malformedCommand }
            return .error(reason: String(decoding: data[1..<(1 + Int(size))], as: UTF8.self))
        case "SUBSCRIBE":
            return .subscribe(topic: data)
        case "CANCEL":
            return .cancel(topic: data)
        case "PING":
            guard data.count >= 2 else { throw .malformedCommand }
            return .ping(ttl: UInt16(data[0]) << 8 | UInt16(data[1]), context: Array(data[2...].prefix(16)))
        case "PONG":
            return .pong(context: data)
        default:
            return .unknown(name: name)
        }
    }

    /// A command frame.
    package static func commandFrame(name: String, data: [UInt8]) -> Frame {
        var body = ByteBuffer()
        let nameBytes = Array(name.utf8)
        body.writeInteger(UInt8(nameBytes.count))
        body.writeBytes(nameBytes)
        body.writeBytes(data)
        return Frame(isCommand: true, body: body)
    }

    /// READY with these properties, in this order.
    package static func readyFrame(_ properties: [(String, [UInt8])]) -> Frame {
        var data: [UInt8] = []
        for (name, value) in properties {
            let nameBytes = Array(name.utf8)
            data.append(UInt8(nameBytes.count))
            data += nameBytes
            let size = UInt32(value.count)
            data += [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
            data += value
        }
        return Self.commandFrame(name: "READY", data: data)
    }

    /// ERROR with a reason (at most 255 bytes).
    package static func errorFrame(_ reason: String) -> Frame {
        let bytes = Array(reason.utf8.prefix(255))
        return Self.commandFrame(name: "ERROR", data: [UInt8(bytes.count)] + bytes)
    }

    /// Metadata: name-size (1), name, value-size (4, big-endian), value; repeated. Names are case-insensitive, so
    /// they are returned lower-cased.
    private static func parseProperties(_ data: [UInt8]) throws(ZMTPError) -> [String: [UInt8]] {
        var properties: [String: [UInt8]] = [:]
        var index = 0
        while index < data.count {
            let nameSize = Int(data[index])
            index += 1
            guard nameSize > 0, index + nameSize + 4 <= data.count else { throw .malformedCommand }
            let name = String(decoding: data[index..<(index + nameSize)], as: UTF8.self).lowercased()
            index += nameSize
            let valueSize = data[index..<(index + 4)].reduce(0) { $0 << 8 | Int($1) }
            index += 4
            guard valueSize <= data.count - index else { throw .malformedCommand }
            properties[name] = Array(data[index..<(index + valueSize)])
            index += valueSize
        }
        return properties
    }
}

/// What a subscriber of a PUB socket asked for: a multiset of topic prefixes, as libzmq keeps it (two SUBSCRIBEs of
/// one topic need two CANCELs).
package struct ZMTPSubscriptions: Sendable, Hashable {
    private var counts: [[UInt8]: Int] = [:]

    package init() {}

    package var isEmpty: Bool { self.counts.isEmpty }

    /// Subscriptions in all (a topic subscribed twice counts twice).
    package var count: Int { self.counts.values.reduce(0, +) }

    package mutating func subscribe(_ topic: [UInt8]) {
        self.counts[topic, default: 0] += 1
    }

    package mutating func cancel(_ topic: [UInt8]) {
        guard let count = self.counts[topic] else { return }
        self.counts[topic] = count > 1 ? count - 1 : nil
    }

    /// Whether a message that starts with these bytes is wanted (the empty topic matches everything).
    package func matches(_ message: ByteBuffer) -> Bool {
        self.counts.keys.contains { topic in
            topic.count <= message.readableBytes
                && message.withUnsafeReadableBytes { $0.prefix(topic.count).elementsEqual(topic) }
        }
    }
}

/// A peer broke the protocol; the connection is closed.
package enum ZMTPError: Error, Hashable, Sendable {
    case truncated
    case notZMTP
    case unsupportedVersion(UInt8)
    case unsupportedMechanism(String)
    case badFlags(UInt8)
    case frameTooLarge(UInt64)
    case malformedCommand
    case expectedReady
    case incompatibleSocketType(String)
}
