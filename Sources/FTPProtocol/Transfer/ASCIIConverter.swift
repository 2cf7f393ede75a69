import NIOCore

/// TYPE A line-ending conversion, chunk by chunk, with the state that a CR or LF split across two chunks needs.
/// - SeeAlso: RFC 959 §3.1.1.1 (NVT-ASCII: lines end with CRLF on the wire)
public enum ASCIIConverter {
    /// Local to network: every LF not already preceded by CR becomes CRLF.
    public struct ToNetwork: Sendable {
        private var lastWasCR = false
        public init() {}

        public mutating func convert(_ input: ByteBuffer) -> ByteBuffer {
            let view = input.readableBytesView
            guard view.contains(UInt8(ascii: "\n")) else {
                if let last = view.last { self.lastWasCR = last == UInt8(ascii: "\r") }
                return input
            }
            var output = ByteBuffer()
            output.reserveCapacity(view.count + view.count / 16 + 16)
            var runStart = view.startIndex
            for index in view.indices where view[index] == UInt8(ascii: "\n") {
                let previousIsCR = index == view.startIndex ? self.lastWasCR : view[index - 1] == UInt8(ascii: "\r")
                if !previousIsCR {
                    output.writeBytes(view[runStart..<index])
                    output.writeInteger(UInt8(ascii: "\r"))
                    runStart = index
                }
            }
            output.writeBytes(view[runStart..<view.endIndex])
            self.lastWasCR = view.last == UInt8(ascii: "\r")
            return output
        }
    }

    /// Network to local: CRLF becomes LF; a CR not followed by LF is kept.
    public struct FromNetwork: Sendable {
        private var pendingCR = false
        public init() {}

        public mutating func convert(_ input: ByteBuffer) -> ByteBuffer {
            let view = input.readableBytesView
            guard !self.pendingCR, !view.contains(UInt8(ascii: "\r")) else {
                return self.convertSlow(view)
            }
            return input
        }

        private mutating func convertSlow(_ view: ByteBufferView) -> ByteBuffer {
            var output = ByteBuffer()
            output.reserveCapacity(view.count + 1)
            for byte in view {
                if self.pendingCR {
                    self.pendingCR = false
                    if byte != UInt8(ascii: "\n") { output.writeInteger(UInt8(ascii: "\r")) }
                }
                if byte == UInt8(ascii: "\r") {
                    self.pendingCR = true
                } else {
                    output.writeInteger(byte)
                }
            }
            return output
        }

        /// What is still held back at the end of the upload (a final lone CR).
        public mutating func finish() -> ByteBuffer? {
            guard self.pendingCR else { return nil }
            self.pendingCR = false
            var output = ByteBuffer()
            output.writeInteger(UInt8(ascii: "\r"))
            return output
        }
    }
}
