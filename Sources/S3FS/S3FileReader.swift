import Logging
import NIOCore
import S3Client
import VirtualFS

extension S3FileSystem {
    /// Starts reading at `offset` with a ranged GetObject and hands the bytes out as they arrive (see
    /// ``S3FileReader``). A missing object or directory is reported here, before any byte moves.
    public func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader {
        try Self.validate(path)
        guard offset >= 0 else { throw FileSystemError(.invalidArgument, path: path, message: "negative offset") }
        guard path != "/" else { throw FileSystemError.notAFile(path) }
        let key = self.key(path)
        let configuration = self.configuration
        let first = self.bucket.startDownload(
            key,
            from: offset,
            length: configuration.readFirstRangeSize,
            buffering: configuration.readBuffering
        )
        do {
            let response = try await first.response()
            return S3FileReader(
                fileSystem: self,
                path: path,
                key: key,
                offset: offset,
                first: first,
                response: response
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

/// Reads an object with ranged GETs received on an event loop and handed out in chunks: the first
/// ``S3FileSystem/Configuration/readFirstRangeSize`` bytes with the GET that ``S3FileSystem/openForReading(_:from:)``
/// starts, the rest of the object with one more, asked for shortly before the first runs out (when it has no more than
/// the buffer's limit left), so that the bytes flow without a pause between the two.
///
/// Why two: the second GET is started from the task that runs the transfer, by then on the data connection's event
/// loop, and its connection to the store is made on that event loop too (AsyncHTTPClient's `delegateAndChannel`), so
/// that the bytes go from the store's socket to the client's on one thread, without a hop per chunk. The first GET is
/// started before the data connection exists. One GET for the rest rather than a series of ranges: on SeaweedFS each
/// GET costs the store more CPU than the bytes it serves, and parallel ranges measured slower (scripts/bench-s3).
///
/// Each GET holds at most ``S3FileSystem/Configuration/readBuffering``'s limit (1 MiB by default) and stops reading
/// from the store until the FTP client caught up (backpressure), so a transfer holds a few MiB whatever the object's
/// size.
///
/// The second GET is pinned to the first answer's entity tag with `If-Match`, so a replaced object is never spliced
/// in: the transfer fails instead. If the connection to the store breaks midway, the reader asks again from where it
/// was (pinned too), twice at most; then the error goes to the transfer.
final class S3FileReader: FileReader {
    /// A range requested, from the next byte to hand out to one past its last.
    private struct Part {
        var download: S3StreamedDownload
        var position: Int64
        var end: Int64
        var hasAnswer: Bool
    }

    private let bucket: S3Bucket?
    private let configuration: S3FileSystem.Configuration
    private let path: String
    private let key: String
    private let eTag: String?
    private let logger: Logger?
    /// Ranges on their way, in order; the first is being read.
    private var parts: [Part] = []
    /// The first byte not requested yet.
    private var nextStart: Int64
    /// One past the last byte to read.
    private let end: Int64
    private var resumesLeft = 2
    /// The error that ended the reading; given again to any later ``read()``.
    private var failure: (any Error)?

    init(
        fileSystem: S3FileSystem,
        path: String,
        key: String,
        offset: Int64,
        first: S3StreamedDownload,
        response: S3StreamedDownload.Response
    ) {
        self.bucket = fileSystem.bucket
        self.configuration = fileSystem.configuration
        self.path = path
        self.key = key
        self.eTag = response.object.eTag
        self.logger = fileSystem.logger
        let firstEnd: Int64
        if response.isPartial {
            self.end = response.object.size
            firstEnd = min(self.end, offset + fileSystem.configuration.readFirstRangeSize)
        } else {
            // The store sent the whole object from the offset (it ignores Range): one answer has it all.
            self.end = max(offset, response.object.size)
            firstEnd = self.end
        }
        self.parts = [Part(download: first, position: offset, end: firstEnd, hasAnswer: true)]
        self.nextStart = firstEnd
    }

    /// A reader with nothing to read.
    init(path: String) {
        self.bucket = nil
        self.configuration = S3FileSystem.Configuration()
        self.path = path
        self.key = ""
        self.eTag = nil
        self.logger = nil
        self.nextStart = 0
        self.end = 0
    }

    /// An object store has no local descriptor.
    var sendfileSource: SendfileSource? { nil }

    func read() async throws -> ByteBuffer? {
        if let failure = self.failure { throw failure }
        while true {
            self.requestAhead()
            guard !self.parts.isEmpty else { return nil }
            do {
                if !self.parts[0].hasAnswer {
                    _ = try await self.parts[0].download.response()
                    self.parts[0].hasAnswer = true
                }
                if let chunk = try await self.parts[0].download.next() {
                    self.parts[0].position += Int64(chunk.readableBytes)
                    return chunk
                }
                guard self.parts[0].position >= self.parts[0].end else {
                    throw FileSystemError(
                        .backend,
                        path: self.path,
                        message: "the store ended the object at byte \(self.parts[0].position) of \(self.end)"
                    )
                }
                self.parts.removeFirst()
            } catch let error as S3Error
                where error.isTransportFailure && self.resumesLeft > 0
                && self.parts[0].position < self.parts[0].end
            {
                self.resumesLeft -= 1
                let part = self.parts[0]
                part.download.cancel()
                self.logger?.notice(
                    "download interrupted; asking the store again from where it stopped",
                    metadata: ["ftp.path": "\(self.path)", "s3.offset": "\(part.position)", "s3.error": "\(error)"]
                )
                self.parts[0].download = self.start(from: part.position, to: part.end)
                self.parts[0].hasAnswer = false
            } catch {
                self.cancelAll()
                let failure: any Error
                if let error = error as? S3Error, error.isPreconditionFailed {
                    failure = FileSystemError(
                        .backend,
                        path: self.path,
                        message: "the file was replaced while it was read",
                        underlying: error
                    )
                } else if error is FileSystemError || error is CancellationError {
                    failure = error
                } else {
                    failure = S3FileSystem.fileSystemError(error, path: self.path)
                }
                self.failure = failure
                throw failure
            }
        }
    }

    /// Asks for the rest of the object once the range being read has no more than a buffer's worth left.
    private func requestAhead() {
        guard self.nextStart < self.end else { return }
        if let last = self.parts.last, last.end - last.position > Int64(self.configuration.readBuffering.limit) {
            return
        }
        let start = self.nextStart
        self.parts.append(
            Part(download: self.start(from: start, to: self.end), position: start, end: self.end, hasAnswer: false)
        )
        self.nextStart = self.end
    }

    /// A GET of bytes `start..<end`, pinned to the object read so far, received on the event loop this task runs on
    /// (`startDownload`'s default).
    private func start(from start: Int64, to end: Int64) -> S3StreamedDownload {
        self.bucket!.startDownload(
            self.key,
            from: start,
            length: end - start,
            ifMatch: self.eTag,
            buffering: self.configuration.readBuffering
        )
    }

    private func cancelAll() {
        for part in self.parts { part.download.cancel() }
        self.parts = []
        self.nextStart = self.end
    }

    func close() async throws {
        // Cancelling ends the HTTP requests (their connections are closed if a body was not read to the end).
        self.cancelAll()
    }
}
