import NIOCore

/// The bytes of a response body on their way from the event loop that receives them to the task that reads them:
/// gathered into chunks of `chunkSize` bytes (the last may be shorter), and held up to about `limit` bytes. No I/O;
/// the ``S3BodyCollector`` drives it under its lock.
///
/// The HTTP client hands out what each socket read brought (64 KiB at most). Gathering those into larger chunks on
/// the event loop costs one copy and saves the reader a wake-up per read, and the FTP side most of its writes; whole
/// chunks of a larger part are slices of it, without a copy. Once `limit` bytes are held the producer is told to
/// pause; it may go on once the reader brought them down to half of it, so that a pause and its resume move at least
/// `limit / 2` bytes.
struct S3BodyBuffer {
    /// What ``take()`` found.
    enum Next {
        /// A chunk: `chunkSize` bytes, or the rest at the end of the body.
        case chunk(ByteBuffer)
        /// The body ended and every byte was taken.
        case end
        /// The body failed after every byte that came before the failure was taken.
        case failed(any Error)
        /// Nothing yet: the reader waits for ``append(_:)``, ``finish()`` or ``fail(_:)``.
        case empty
    }

    private enum End {
        case finished
        case failed(any Error)
    }

    let chunkSize: Int
    let limit: Int
    private var ready = CircularBuffer<ByteBuffer>()
    private var filling: ByteBuffer?
    private var end: End?
    /// Bytes held: ready chunks and the chunk being filled.
    private(set) var bufferedBytes = 0

    /// `limit` is raised to two chunks at least: a paused producer must leave a whole chunk for the reader.
    init(chunkSize: Int, limit: Int) {
        self.chunkSize = max(1, chunkSize)
        self.limit = max(limit, 2 * self.chunkSize)
    }

    /// Whether the producer should stop until ``mayResume``.
    var isFull: Bool { self.bufferedBytes >= self.limit }

    /// Whether a paused producer may go on.
    var mayResume: Bool { self.bufferedBytes <= self.limit / 2 }

    /// Whether the body ended (finished or failed); taking may still return held chunks.
    var hasEnded: Bool { self.end != nil }

    /// Adds bytes that arrived. Returns whether the producer should pause now.
    mutating func append(_ part: ByteBuffer) -> Bool {
        guard self.end == nil, part.readableBytes > 0 else { return self.isFull }
        self.bufferedBytes += part.readableBytes
        var part = part
        while part.readableBytes > 0 {
            if self.filling == nil, part.readableBytes >= self.chunkSize {
                // Whole chunks of a large part are slices of it: no copy.
                self.ready.append(part.readSlice(length: self.chunkSize)!)
                continue
            }
            var chunk = self.filling.take() ?? ByteBufferAllocator().buffer(capacity: self.chunkSize)
            var slice = part.readSlice(length: min(part.readableBytes, self.chunkSize - chunk.readableBytes))!
            chunk.writeBuffer(&slice)
            if chunk.readableBytes >= self.chunkSize {
                self.ready.append(chunk)
            } else {
                self.filling = chunk
            }
        }
        return self.isFull
    }

    /// The body is complete.
    mutating func finish() {
        if self.end == nil { self.end = .finished }
    }

    /// The body failed; what came before stays readable.
    mutating func fail(_ error: any Error) {
        if self.end == nil { self.end = .failed(error) }
    }

    /// The next chunk, or how the body ended, or `.empty`.
    mutating func take() -> Next {
        if let chunk = self.ready.popFirst() {
            self.bufferedBytes -= chunk.readableBytes
            return .chunk(chunk)
        }
        guard let end = self.end else { return .empty }
        if let rest = self.filling.take(), rest.readableBytes > 0 {
            self.bufferedBytes -= rest.readableBytes
            return .chunk(rest)
        }
        switch end {
        case .finished: return .end
        case .failed(let error): return .failed(error)
        }
    }

    /// Drops every held byte (the reader is gone).
    mutating func discard() {
        self.ready.removeAll()
        self.filling = nil
        self.bufferedBytes = 0
    }
}
