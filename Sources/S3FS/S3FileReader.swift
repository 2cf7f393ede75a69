import Logging
import NIOCore
import S3Client
import VirtualFS

extension S3FileSystem {
    /// Starts a GetObject from `offset` (a ranged GET when it is not 0) and hands its bytes out as they arrive.
    public func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader {
        try Self.validate(path)
        guard offset >= 0 else { throw FileSystemError(.invalidArgument, path: path, message: "negative offset") }
        guard path != "/" else { throw FileSystemError.notAFile(path) }
        let key = self.key(path)
        do {
            let download = try await self.bucket.getObject(key, from: offset)
            return S3FileReader(
                bucket: self.bucket,
                path: path,
                download: download,
                offset: offset,
                logger: self.logger
            )
        } catch let error as S3Error where error.isInvalidRange {
            // The offset is at or past the end (or the object is empty): nothing to read.
            return S3FileReader(path: path)
        } catch let error as S3Error where error.isNotFound {
            let isDirectory = try await self.mapErrors(path) { try await self.directoryInfo(path) != nil }
            throw isDirectory ? FileSystemError.notAFile(path) : FileSystemError.notFound(path)
        } catch {
            throw Self.fileSystemError(error, path: path)
        }
    }
}

/// Reads an object as the GetObject answer streams in: each ``read()`` asks the HTTP client for the next chunk, so a
/// slow FTP client stops the reading from the store (backpressure), and memory stays at a few chunks.
///
/// If the connection to the store breaks midway, the reader asks again from where it was (a ranged GET pinned to the
/// same entity tag with `If-Match`, so a replaced object is never spliced in), twice at most; then the error goes to
/// the transfer.
final class S3FileReader: FileReader {
    private let bucket: S3Bucket?
    private let path: String
    private let key: String
    private let eTag: String?
    private let logger: Logger?
    private var iterator: S3ObjectStream.AsyncIterator?
    /// The offset of the next byte.
    private var position: Int64
    /// One past the last byte to read.
    private let end: Int64
    private var resumesLeft = 2

    init(bucket: S3Bucket, path: String, download: S3Download, offset: Int64, logger: Logger) {
        self.bucket = bucket
        self.path = path
        self.key = download.object.key
        self.eTag = download.object.eTag
        self.logger = logger
        self.iterator = download.body.makeAsyncIterator()
        self.position = offset
        self.end = download.contentLength.map { offset + $0 } ?? download.object.size
    }

    /// A reader with nothing to read.
    init(path: String) {
        self.bucket = nil
        self.path = path
        self.key = ""
        self.eTag = nil
        self.logger = nil
        self.iterator = nil
        self.position = 0
        self.end = 0
    }

    /// An object store has no local descriptor.
    var sendfileSource: SendfileSource? { nil }

    /// The size of the chunks ``read()`` returns (but the last). The HTTP client hands out what each socket read
    /// brought (64 KiB at most); gathering them costs one copy and saves the FTP side three quarters of its writes.
    static let chunkSize = 256 * 1024

    /// Bytes of the last HTTP chunk that did not fit into the previous ``read()``.
    private var pending: ByteBuffer?

    func read() async throws -> ByteBuffer? {
        var first: ByteBuffer
        if let pending = self.pending.take() {
            first = pending
        } else if let chunk = try await self.nextChunk() {
            first = chunk
        } else {
            return nil
        }
        if first.readableBytes >= Self.chunkSize {
            if first.readableBytes > Self.chunkSize {
                self.pending = first.getSlice(
                    at: first.readerIndex + Self.chunkSize,
                    length: first.readableBytes - Self.chunkSize
                )
                first.moveWriterIndex(to: first.readerIndex + Self.chunkSize)
            }
            return first
        }
        var gathered = ByteBufferAllocator().buffer(capacity: Self.chunkSize)
        gathered.writeBuffer(&first)
        while gathered.readableBytes < Self.chunkSize, var next = try await self.nextChunk() {
            let fitting = min(next.readableBytes, Self.chunkSize - gathered.readableBytes)
            var head = next.readSlice(length: fitting)!
            gathered.writeBuffer(&head)
            if next.readableBytes > 0 { self.pending = next }
        }
        return gathered
    }

    /// The next chunk of the HTTP answer, asking the store again after a broken connection.
    private func nextChunk() async throws -> ByteBuffer? {
        while true {
            guard var iterator = self.iterator else { return nil }
            do {
                let chunk = try await iterator.next()
                self.iterator = iterator
                guard let chunk else {
                    self.iterator = nil
                    guard self.position >= self.end else {
                        throw FileSystemError(
                            .backend,
                            path: self.path,
                            message: "the store ended the object at byte \(self.position) of \(self.end)"
                        )
                    }
                    return nil
                }
                self.position += Int64(chunk.readableBytes)
                return chunk
            } catch let error as S3Error
                where error.isTransportFailure && self.resumesLeft > 0 && self.position < self.end
            {
                self.resumesLeft -= 1
                self.iterator = nil
                self.logger?.notice(
                    "download interrupted; asking the store again from where it stopped",
                    metadata: ["ftp.path": "\(self.path)", "s3.offset": "\(self.position)", "s3.error": "\(error)"]
                )
                guard let bucket = self.bucket else { throw error }
                do {
                    let download = try await bucket.getObject(self.key, from: self.position, ifMatch: self.eTag)
                    self.iterator = download.body.makeAsyncIterator()
                } catch {
                    throw S3FileSystem.fileSystemError(error, path: self.path)
                }
            } catch {
                self.iterator = nil
                throw S3FileSystem.fileSystemError(error, path: self.path)
            }
        }
    }

    func close() async throws {
        // Dropping the iterator ends the HTTP request (the connection is closed if the body was not read to the end).
        self.iterator = nil
        self.pending = nil
    }
}
