import FTPProtocol
import NIOCore
import Testing

@testable import FTPServer

/// Hostile bytes through the framing and the parser: every input ends as events, never as a crash, and the decoder
/// never holds more than the line limit.
@Suite("Random input")
struct RandomInputTests {
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            // SplitMix64: a fixed seed gives the same bytes on every run.
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: 0..<8)
    func randomBytesNeverBreakTheDecoder(seed: UInt64) {
        var generator = SeededGenerator(state: seed)
        var decoder = FTPControlDecoder(maximumLineLength: 512)
        var buffer = ByteBuffer()
        let verbs = ["USER ", "PASS ", "RETR ", "PORT ", "EPRT |", "REST ", "MFMT ", "SITE CHMOD ", "TYPE ", "OPTS "]
        for _ in 0..<2_000 {
            if Bool.random(using: &generator) {
                buffer.writeString(verbs.randomElement(using: &generator)!)
            }
            let count = Int.random(in: 0..<96, using: &generator)
            let alphabet: [UInt8] = [
                0x0A, 0x0D, 0xFF, 0x00, 0x20, 0x7C, 0x2C, 0x2E, 0x2F, 0x31, 0x39, 0x41, 0xC3, 0xA9,
            ]
            for _ in 0..<count {
                if Bool.random(using: &generator) {
                    buffer.writeInteger(alphabet.randomElement(using: &generator)!)
                } else {
                    buffer.writeInteger(UInt8.random(in: 0...255, using: &generator))
                }
            }
            while decoder.nextEvent(&buffer) != nil {}
            #expect(buffer.readableBytes <= 512)
        }
    }

    @Test func parserAcceptsAnyString() {
        var generator = SeededGenerator(state: 42)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0..<40, using: &generator)
            let scalars = (0..<length).compactMap { _ in Unicode.Scalar(UInt32.random(in: 0..<0x300, using: &generator))
            }
            let verb = ["EPRT ", "PORT ", "REST ", "MFMT ", "LIST ", "SITE ", "TYPE ", ""].randomElement(
                using: &generator
            )!
            _ = try? FTPCommand.parse(verb + String(String.UnicodeScalarView(scalars)))
        }
    }
}
