import NIOCore

/// One reply: a three-digit code and one or more lines of text.
/// - SeeAlso: RFC 959 §4.2
public struct FTPReply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    /// The text lines; at least one. A multi-line reply sends the first as `code-text`, the middle ones indented by a
    /// space, the last as `code text`.
    public var lines: [String]

    public init(_ code: Int, _ text: String) {
        self.code = code
        self.lines = [text]
    }

    public init(_ code: Int, lines: [String]) {
        self.code = code
        self.lines = lines.isEmpty ? [""] : lines
    }

    public var description: String { "\(self.code) \(self.lines.joined(separator: " | "))" }

    /// Writes the reply in the wire format. CR, LF and NUL inside the text become spaces, so that nothing (a client's
    /// path, a backend message) can end a reply early or inject another one.
    /// - SeeAlso: RFC 959 §4.2 (multi-line replies)
    public func write(to buffer: inout ByteBuffer) {
        let code = String(self.code)
        if self.lines.count == 1 {
            buffer.writeString(code)
            buffer.writeInteger(UInt8(ascii: " "))
            Self.writeSanitized(self.lines[0], to: &buffer)
            buffer.writeStaticString("\r\n")
            return
        }
        for (index, line) in self.lines.enumerated() {
            if index == 0 {
                buffer.writeString(code)
                buffer.writeInteger(UInt8(ascii: "-"))
            } else if index == self.lines.count - 1 {
                buffer.writeString(code)
                buffer.writeInteger(UInt8(ascii: " "))
            } else {
                // A middle line starting with digits could read as the end of the reply: indent every middle line.
                buffer.writeInteger(UInt8(ascii: " "))
            }
            Self.writeSanitized(line, to: &buffer)
            buffer.writeStaticString("\r\n")
        }
    }

    /// The reply as wire bytes.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        self.write(to: &buffer)
        return buffer
    }

    private static func writeSanitized(_ text: String, to buffer: inout ByteBuffer) {
        if !text.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            buffer.writeString(text)
            return
        }
        buffer.writeBytes(text.utf8.map { $0 == 13 || $0 == 10 || $0 == 0 ? UInt8(ascii: " ") : $0 })
    }
}

extension FTPReply {
    /// Quotes a path for a 257 reply, doubling embedded quotes. - SeeAlso: RFC 959 Appendix II
    public static func quoted(_ path: String) -> String {
        "\"" + path.replacing("\"", with: "\"\"") + "\""
    }

    /// The reply for a line that is not a command this server can run.
    public init(parseError: FTPParseError) {
        switch parseError.kind {
        case .unknownCommand:
            self.init(500, "Command \"\(parseError.verb)\" not understood.")
        case .badArguments:
            self.init(501, parseError.message)
        case .notImplemented:
            self.init(502, "Command \"\(parseError.verb)\" not implemented.")
        case .parameterNotImplemented:
            self.init(504, parseError.message)
        }
    }
}
