import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// How a ``S3StreamedDownload`` holds its body.
public struct S3DownloadBuffering: Sendable {
    /// The size of the chunks ``S3StreamedDownload/next()`` returns (but the last): what arrives is gathered up to it.
    /// Default 256 KiB.
    public var chunkSize: Int
    /// The bytes held before the download stops reading from the store until the reader catches up; at least two
    /// chunks. Default 1 MiB.
    public var limit: Int

    public init(chunkSize: Int = 256 << 10, limit: Int = 1 << 20) {
        self.chunkSize = max(1, chunkSize)
        self.limit = max(limit, 2 * self.chunkSize)
    }
}

extension S3Bucket {
    /// Starts a GetObject of `length` bytes from `offset` (to the end without a length) and returns at once: the
    /// request is on its way while the caller does something else, and ``S3StreamedDownload/response()`` waits for
    /// the answer. With `ifMatch`, only if the object still has that entity tag.
    ///
    /// Unlike ``getObject(_:from:length:ifMatch:)``, the body is received on an event loop (`eventLoop`, which should
    /// be the one the caller runs on; by default the HTTP client's choice, preferring the caller's), gathered there
    /// into chunks and held up to `buffering.limit` bytes, so that the reader is woken once a chunk rather than once a
    /// socket read, and the store is read ahead of it within a fixed budget.
    public func startDownload(
        _ key: String,
        from offset: Int64 = 0,
        length: Int64? = nil,
        ifMatch: String? = nil,
        buffering: S3DownloadBuffering = S3DownloadBuffering(),
        on eventLoop: (any EventLoop)? = nil
    ) -> S3StreamedDownload {
        var request = S3Request(operation: "GetObject", method: .GET, key: key, isIdempotent: true)
        if offset > 0 || length != nil {
            let end = length.map { String(offset + $0 - 1) } ?? ""
            request.headers.append(("range", "bytes=\(offset)-\(end)"))
        }
        if let ifMatch { request.headers.append(("if-match", ifMatch)) }
        return S3StreamedDownload(
            bucket: self,
            request: request,
            offset: offset,
            length: length,
            buffering: buffering,
            eventLoop: eventLoop ?? self.httpClient.eventLoopGroup.any()
        )
    }
}

/// A GetObject started by ``S3Bucket/startDownload(_:from:length:ifMatch:buffering:on:)``: first its answer
/// (``response()``, retried as the bucket's policy says until the head of a 2xx answer arrives), then its bytes
/// (``next()``). Transport failures while reading come out as ``S3Error``. Used by one task at a time; ``cancel()``
/// (or dropping it) ends the request.
public final class S3StreamedDownload {
    /// The answer's facts.
    public struct Response: Sendable {
        /// The object's facts: its whole size (also for a range), entity tag, modification time.
        public var object: S3Object
        /// The bytes ``S3StreamedDownload/next()`` will produce, when the store said.
        public var contentLength: Int64?
        /// Whether the store answered with the range asked for (206), rather than the whole object (200, which a
        /// store that ignores `Range` sends; the download then skips to the offset itself).
        public var isPartial: Bool
    }

    private let bucket: S3Bucket
    private let request: S3Request
    private let offset: Int64
    private let length: Int64?
    private let buffering: S3DownloadBuffering
    private let eventLoop: any EventLoop
    private var collector: S3BodyCollector?
    /// The first attempt, started with the download.
    private var firstAttempt: Result<S3BodyCollector, any Error>?
    private var answer: Response?
    /// Bytes to drop before the first one handed out (a whole object sent for a range).
    private var skip: Int64 = 0
    /// Bytes still to hand out when the store sent more than asked for; nil when it sent what was asked.
    private var remaining: Int64?

    init(
        bucket: S3Bucket,
        request: S3Request,
        offset: Int64,
        length: Int64?,
        buffering: S3DownloadBuffering,
        eventLoop: any EventLoop
    ) {
        self.bucket = bucket
        self.request = request
        self.offset = offset
        self.length = length
        self.buffering = buffering
        self.eventLoop = eventLoop
        self.firstAttempt = Result { try self.startAttempt(bucket.sign(request)) }
    }

    deinit {
        self.collector?.cancel()
        if case .success(let collector) = self.firstAttempt { collector.cancel() }
    }

    /// The event loop the body is received on.
    public var bodyEventLoop: any EventLoop { self.eventLoop }

    private func startAttempt(_ signed: S3SignedRequest) throws -> S3BodyCollector {
        let http = try HTTPClient.Request(url: signed.url, method: self.request.method, headers: signed.headers)
        let collector = S3BodyCollector(chunkSize: self.buffering.chunkSize, limit: self.buffering.limit)
        collector.start(
            http,
            on: self.bucket.httpClient,
            eventLoop: self.eventLoop,
            headTimeout: .seconds(self.bucket.configuration.requestTimeout.components.seconds),
            logger: self.bucket.logger
        )
        return collector
    }

    /// Waits for the answer. Throws ``S3Error`` for an error answer (``S3Error/isInvalidRange`` for an offset at or
    /// past the end, ``S3Error/isPreconditionFailed`` when `ifMatch` no longer holds) or when the store could not be
    /// reached.
    public func response() async throws -> Response {
        if let answer = self.answer { return answer }
        let answer = try await self.bucket.retrying(self.request) { signed in
            let collector: S3BodyCollector
            if let first = self.firstAttempt.take() {
                collector = try first.get()
            } else {
                collector = try self.startAttempt(signed)
            }
            self.collector = collector
            let head = try await collector.head()
            guard (200..<300).contains(head.status.code) else {
                // The error document: the first 64 KiB at most.
                var body = ByteBuffer()
                while body.readableBytes < 64 * 1024, let chunk = try? await collector.next() {
                    body.writeImmutableBuffer(chunk)
                }
                collector.cancel()
                self.collector = nil
                throw self.bucket.error(status: head.status.code, headers: head.headers, body: body, self.request)
            }
            return self.facts(head)
        }
        self.answer = answer
        return answer
    }

    private func facts(_ head: HTTPResponseHead) -> Response {
        let key = self.request.key ?? ""
        let contentLength = head.headers.first(name: "content-length").flatMap { Int64($0) }
        var object = S3Bucket.object(key, from: head.headers, status: head.status.code)
        let isPartial = head.status.code == 206
        if !isPartial {
            // A store that ignores Range answers 200 with the whole object: skip to the offset here, and stop after
            // the length asked for.
            self.skip = self.offset
            if let contentLength { object.size = contentLength }
            self.remaining = self.length
        }
        var produced = contentLength.map { $0 - self.skip }
        if let remaining = self.remaining, let all = produced { produced = min(all, remaining) }
        return Response(object: object, contentLength: produced, isPartial: isPartial)
    }

    /// The next chunk of the body (``S3DownloadBuffering/chunkSize`` bytes but the last), or nil at its end. Call
    /// after ``response()``.
    public func next() async throws -> ByteBuffer? {
        guard self.answer != nil, let collector = self.collector else {
            preconditionFailure("S3StreamedDownload.next() before response()")
        }
        while true {
            if self.remaining == 0 {
                self.cancel()
                return nil
            }
            var chunk: ByteBuffer
            do {
                guard let next = try await collector.next() else { return nil }
                chunk = next
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                throw S3Error(
                    operation: self.request.operation,
                    bucket: self.bucket.name,
                    key: self.request.key,
                    underlying: error
                )
            }
            if self.skip > 0 {
                let dropped = Int(min(self.skip, Int64(chunk.readableBytes)))
                chunk.moveReaderIndex(forwardBy: dropped)
                self.skip -= Int64(dropped)
                if chunk.readableBytes == 0 { continue }
            }
            if let remaining = self.remaining {
                if Int64(chunk.readableBytes) > remaining {
                    chunk.moveWriterIndex(to: chunk.readerIndex + Int(remaining))
                }
                self.remaining = remaining - Int64(chunk.readableBytes)
            }
            return chunk
        }
    }

    /// Ends the request; the connection is closed if the body was not read to its end. A waiting ``next()`` throws
    /// `CancellationError`.
    public func cancel() {
        self.collector?.cancel()
        if case .success(let collector) = self.firstAttempt.take() { collector.cancel() }
    }
}
