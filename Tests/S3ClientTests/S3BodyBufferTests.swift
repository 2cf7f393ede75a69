import NIOCore
import Testing

@testable import S3Client

/// The buffer between the event loop that receives a GetObject body and the task that reads it: gathering, the
/// limit that pauses the producer, and the order of bytes and endings.
@Suite("S3 body buffer")
struct S3BodyBufferTests {
    static func bytes(_ count: Int, from start: Int = 0) -> ByteBuffer {
        ByteBuffer(bytes: (start..<start + count).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    }

    /// Every chunk until `.empty` or an end; the end is `nil` for `.empty`.
    static func drain(_ buffer: inout S3BodyBuffer) -> (chunks: [ByteBuffer], end: String?) {
        var chunks: [ByteBuffer] = []
        while true {
            switch buffer.take() {
            case .chunk(let chunk): chunks.append(chunk)
            case .end: return (chunks, "end")
            case .failed(let error): return (chunks, "failed: \(error)")
            case .empty: return (chunks, nil)
            }
        }
    }

    @Test("small parts are gathered into chunks; the rest comes out at the end")
    func gathering() {
        var buffer = S3BodyBuffer(chunkSize: 100, limit: 1000)
        var sent = ByteBuffer()
        for index in 0..<7 {
            let part = Self.bytes(30, from: index * 30)
            sent.writeImmutableBuffer(part)
            _ = buffer.append(part)
        }
        #expect(buffer.bufferedBytes == 210)
        var (chunks, end) = Self.drain(&buffer)
        #expect(chunks.map(\.readableBytes) == [100, 100])
        #expect(end == nil, "the last 10 bytes wait for more, or for the end")
        buffer.finish()
        let rest = Self.drain(&buffer)
        chunks += rest.chunks
        end = rest.end
        #expect(chunks.map(\.readableBytes) == [100, 100, 10])
        #expect(end == "end")
        var received = ByteBuffer()
        for chunk in chunks { received.writeImmutableBuffer(chunk) }
        #expect(received == sent)
        #expect(buffer.bufferedBytes == 0)
    }

    @Test("a part of a chunk or more is cut into chunks, after the bytes gathered before it")
    func largeParts() {
        var buffer = S3BodyBuffer(chunkSize: 100, limit: 1000)
        _ = buffer.append(Self.bytes(250))
        _ = buffer.append(Self.bytes(40, from: 250))
        _ = buffer.append(Self.bytes(300, from: 290))
        buffer.finish()
        let (chunks, end) = Self.drain(&buffer)
        #expect(chunks.map(\.readableBytes) == [100, 100, 100, 100, 100, 90])
        #expect(end == "end")
        var received = ByteBuffer()
        for chunk in chunks { received.writeImmutableBuffer(chunk) }
        #expect(received == Self.bytes(590))
    }

    @Test("full at the limit, free again at half of it; the limit is two chunks at least")
    func limit() {
        var buffer = S3BodyBuffer(chunkSize: 100, limit: 400)
        let fullAt350 = buffer.append(Self.bytes(350))
        #expect(!fullAt350)
        let fullAt410 = buffer.append(Self.bytes(60))
        #expect(fullAt410, "410 bytes held")
        #expect(buffer.isFull && !buffer.mayResume)
        _ = buffer.take()
        _ = buffer.take()
        #expect(buffer.bufferedBytes == 210)
        #expect(!buffer.isFull && !buffer.mayResume, "more than half of the limit held")
        _ = buffer.take()
        #expect(buffer.bufferedBytes == 110)
        #expect(buffer.mayResume)

        let small = S3BodyBuffer(chunkSize: 100, limit: 10)
        #expect(small.limit == 200)
    }

    @Test("a failure comes after every byte received before it; nothing is taken after an end")
    func failure() {
        struct Broken: Error {}
        var buffer = S3BodyBuffer(chunkSize: 100, limit: 1000)
        _ = buffer.append(Self.bytes(60))
        _ = buffer.append(Self.bytes(60, from: 60))
        buffer.fail(Broken())
        _ = buffer.append(Self.bytes(10))
        buffer.finish()
        let (chunks, end) = Self.drain(&buffer)
        #expect(chunks.map(\.readableBytes) == [100, 20])
        #expect(end?.hasPrefix("failed") == true)
        #expect(buffer.hasEnded)
    }

    @Test("discarding drops what is held")
    func discard() {
        var buffer = S3BodyBuffer(chunkSize: 100, limit: 1000)
        _ = buffer.append(Self.bytes(250))
        _ = buffer.append(Self.bytes(50))
        buffer.discard()
        #expect(buffer.bufferedBytes == 0)
        #expect(Self.drain(&buffer).chunks.isEmpty)
    }
}
