import Logging
import NIOCore
import S3Client
import VirtualFS

extension S3FileSystem {
    /// Opens an upload. Nothing becomes visible before ``FileWriter/commit()``, in every mode: S3 has no in-place
    /// writes, so `.append` and `.resume(at:)` build the new object from the kept bytes of the old one and the new
    /// bytes, and replace the old object at commit (see ``S3FileWriter``). An existing directory at `path` is
    /// `.notAFile`; in strict mode the parent directory must exist.
    public func openForWriting(_ path: String, mode: WriteMode) async throws -> any FileWriter {
        try Self.validateNewName(path)
        guard path != "/" else { throw FileSystemError.notAFile(path) }
        let key = self.key(path)
        return try await self.mapErrors(path) {
            let existing = try await self.bucket.headObject(key)
            if existing == nil, try await self.directoryInfo(path) != nil { throw FileSystemError.notAFile(path) }
            if existing == nil { try await self.checkParent(of: path) }
            let kept: S3FileWriter.Kept?
            switch mode {
            case .replace:
                kept = nil
            case .append:
                kept = existing.map { S3FileWriter.Kept(object: $0, length: $0.size) }
            case .resume(let offset):
                guard offset >= 0 else {
                    throw FileSystemError(.invalidArgument, path: path, message: "negative offset")
                }
                guard let existing else {
                    // Resuming at 0 is a plain upload; further needs something to resume.
                    if offset > 0 { throw FileSystemError.notFound(path) }
                    kept = nil
                    break
                }
                guard offset <= existing.size else {
                    throw FileSystemError(.invalidArgument, path: path, message: "offset past the end of the file")
                }
                kept = S3FileWriter.Kept(object: existing, length: offset)
            }
            let writer = S3FileWriter(fileSystem: self, path: path, key: key)
            if let kept, kept.length > 0 {
                try await writer.keep(kept)
            }
            return writer
        }
    }
}

/// Uploads one object with a fixed memory budget.
///
/// Bytes collect in a part buffer (``S3FileSystem/Configuration/partSize``). A file that fits in one part is sent
/// with one PutObject at commit. Past one part, a multipart upload starts: each full part is uploaded in the
/// background while the next fills, at most ``S3FileSystem/Configuration/partsInFlight`` at once (``write(_:)``
/// waits for the oldest beyond that, which is what slows the FTP client down). ``commit()`` uploads the last part
/// and completes the upload; ``abort()`` (and any failure) aborts it, so the store keeps no orphaned parts and the
/// previous object stays as it was.
///
/// Appends and resumed uploads keep the first bytes of the existing object: from 5 MiB on, the store copies them
/// into the first parts itself at commit (UploadPartCopy, pinned to the object's entity tag, so a concurrent change
/// fails the upload rather than mixing versions); below S3's 5 MiB minimum part size they are read back into the
/// first part buffer at open instead. Either way the new object replaces the old one at commit only, with a
/// conditional write (`If-Match` on the old entity tag) where the store checks it.
final class S3FileWriter: FileWriter {
    /// The part of an existing object an append or a resume keeps.
    struct Kept {
        var object: S3Object
        var length: Int64
    }

    private enum State {
        case open
        case committed
        case aborted
    }

    private let bucket: S3Bucket
    private let configuration: S3FileSystem.Configuration
    private let logger: Logger
    private let path: String
    private let key: String
    private var state = State.open
    /// The part being filled; nil until the first byte.
    private var buffer: ByteBuffer?
    private var uploadID: String?
    /// The entity tag the replaced object must still have when the new one takes its place (appends and resumes).
    private var expectedETag: String?
    /// Kept bytes the store copies at commit: the part numbers they fill, and the source ranges.
    private var pendingCopies: [(partNumber: Int, range: ClosedRange<Int64>)] = []
    private var copySource: S3Object?
    private var nextPartNumber = 1
    private var completedParts: [S3CompletedPart] = []
    /// Parts on their way, oldest first; each gives its buffer back when done.
    private var inFlight: [Task<(part: S3CompletedPart, buffer: ByteBuffer?), any Error>] = []
    /// The buffer of an uploaded part, for the next part: its pages stay mapped, where a new buffer of several MiB
    /// would be mapped afresh (a page fault per 4 KiB, a fifth of an upload's CPU time) and unmapped after.
    private var spare: ByteBuffer?

    init(fileSystem: S3FileSystem, path: String, key: String) {
        self.bucket = fileSystem.bucket
        self.configuration = fileSystem.configuration
        self.logger = fileSystem.logger
        self.path = path
        self.key = key
    }

    deinit {
        // Safety net for a caller that neither committed nor aborted: no orphaned upload.
        guard case .open = self.state else { return }
        for task in self.inFlight { task.cancel() }
        if let uploadID = self.uploadID {
            Self.abandonLater(self.bucket, key: self.key, uploadID: uploadID, logger: self.logger)
        }
    }

    /// Starts the new object with the first `kept.length` bytes of the existing one.
    func keep(_ kept: Kept) async throws {
        self.expectedETag = kept.object.eTag
        if kept.length < Int64(S3Bucket.minimumPartSize) {
            // Too small for a part of its own: read it back into the first part (at most 5 MiB).
            let download = try await self.bucket.getObject(
                kept.object.key,
                from: 0,
                length: kept.length,
                ifMatch: kept.object.eTag
            )
            var buffer = ByteBufferAllocator().buffer(capacity: self.partSize(self.nextPartNumber))
            for try await chunk in download.body {
                buffer.writeImmutableBuffer(chunk)
            }
            guard Int64(buffer.readableBytes) == kept.length else {
                throw FileSystemError(.backend, path: self.path, message: "the existing file changed while reading it")
            }
            self.buffer = buffer
            return
        }
        // The copies are made at commit, as late as possible: a copy pinned to the entity tag fails if the object
        // changed meanwhile, so the append never splices an old version into a newer object. Their part numbers
        // come first.
        try await self.startUpload()
        self.copySource = kept.object
        for range in S3FileSystem.copyRanges(size: kept.length, maximumPart: S3Bucket.maximumPartSize) {
            self.pendingCopies.append((self.nextPartNumber, range))
            self.nextPartNumber += 1
        }
    }

    /// Starts the server-side copies of the kept bytes.
    private func launchCopies() async throws {
        guard let source = self.copySource else { return }
        let (bucket, key, uploadID) = (self.bucket, self.key, self.uploadID!)
        for (partNumber, range) in self.pendingCopies {
            try await self.launch {
                let eTag = try await bucket.uploadPartCopy(
                    key,
                    uploadID: uploadID,
                    partNumber: partNumber,
                    source: source.key,
                    range: range,
                    ifMatch: source.eTag
                )
                return (S3CompletedPart(partNumber: partNumber, eTag: eTag), nil)
            }
        }
        self.pendingCopies = []
    }

    func write(_ buffer: ByteBuffer) async throws {
        guard case .open = self.state else {
            throw FileSystemError(.invalidArgument, path: self.path, message: "writer is finished")
        }
        var input = buffer
        while input.readableBytes > 0 {
            let partSize = self.partSize(self.nextPartNumber)
            // The first part starts small and grows (a small file must not cost a whole part of memory); once the
            // upload is known to be large, parts get their full size at once.
            let capacity = self.uploadID == nil ? min(partSize, max(input.readableBytes, 1 << 16)) : partSize
            var part = self.buffer ?? self.spare.take() ?? ByteBufferAllocator().buffer(capacity: capacity)
            self.buffer = nil
            var slice = input.readSlice(length: min(input.readableBytes, partSize - part.readableBytes))!
            part.writeBuffer(&slice)
            if part.readableBytes >= partSize {
                try await self.send(part)
            } else {
                self.buffer = part
            }
        }
    }

    func commit() async throws {
        switch self.state {
        case .committed: return
        case .aborted: throw FileSystemError(.invalidArgument, path: self.path, message: "writer was aborted")
        case .open: break
        }
        do {
            if self.uploadID == nil {
                try await self.bucket.putObject(
                    self.key,
                    body: self.buffer ?? ByteBuffer(),
                    ifMatch: self.expectedETag
                )
                self.buffer = nil
            } else {
                if let last = self.buffer, last.readableBytes > 0 {
                    self.buffer = nil
                    try await self.send(last)
                }
                try await self.launchCopies()
                while !self.inFlight.isEmpty { try await self.finishOldest() }
                self.spare = nil
                try await self.bucket.completeMultipartUpload(
                    self.key,
                    uploadID: self.uploadID!,
                    parts: self.completedParts,
                    ifMatch: self.expectedETag
                )
            }
            self.state = .committed
        } catch {
            await self.abort()
            throw S3FileSystem.fileSystemError(error, path: self.path)
        }
    }

    func abort() async {
        guard case .open = self.state else { return }
        self.state = .aborted
        self.buffer = nil
        self.spare = nil
        for task in self.inFlight { task.cancel() }
        for task in self.inFlight { _ = try? await task.value }
        self.inFlight = []
        if let uploadID = self.uploadID {
            await Self.abandon(self.bucket, key: self.key, uploadID: uploadID, logger: self.logger)
        }
    }

    /// Aborts a multipart upload, in a task of its own: the caller may be cancelled (an aborted transfer), and the
    /// abort must still reach the store. A failure is logged (the upload then stays until the bucket's lifecycle
    /// rules remove it), never thrown.
    static func abandon(_ bucket: S3Bucket, key: String, uploadID: String, logger: Logger) async {
        let result = await Task { try await bucket.abortMultipartUpload(key, uploadID: uploadID) }.result
        if case .failure(let error) = result {
            logger.warning(
                "could not abort a multipart upload; its parts stay in the bucket until removed",
                metadata: ["s3.key": "\(key)", "s3.upload": "\(uploadID)", "s3.error": "\(error)"]
            )
        }
    }

    private static func abandonLater(_ bucket: S3Bucket, key: String, uploadID: String, logger: Logger) {
        Task { await Self.abandon(bucket, key: key, uploadID: uploadID, logger: logger) }
    }

    /// The size of part `number`: the configured size, doubled after every 1,000 parts (16 times at most).
    private func partSize(_ number: Int) -> Int {
        self.configuration.partSize << min(4, (number - 1) / 1000)
    }

    private func startUpload() async throws {
        guard self.uploadID == nil else { return }
        self.uploadID = try await self.bucket.createMultipartUpload(self.key)
    }

    /// Uploads a full part in the background.
    private func send(_ part: ByteBuffer) async throws {
        try await self.startUpload()
        let partNumber = self.nextPartNumber
        guard partNumber <= S3Bucket.maximumPartCount else {
            throw FileSystemError(.insufficientStorage, path: self.path, message: "too large for one S3 upload")
        }
        self.nextPartNumber += 1
        let (bucket, key, uploadID) = (self.bucket, self.key, self.uploadID!)
        try await self.launch {
            let eTag = try await bucket.uploadPart(key, uploadID: uploadID, partNumber: partNumber, body: part)
            return (S3CompletedPart(partNumber: partNumber, eTag: eTag), part)
        }
    }

    /// Starts a part's upload once fewer than `partsInFlight` are on their way.
    private func launch(
        _ operation: @escaping @Sendable () async throws -> (part: S3CompletedPart, buffer: ByteBuffer?)
    ) async throws {
        while self.inFlight.count >= self.configuration.partsInFlight {
            try await self.finishOldest()
        }
        self.inFlight.append(Task(operation: operation))
    }

    private func finishOldest() async throws {
        let task = self.inFlight.removeFirst()
        do {
            let (part, buffer) = try await task.value
            self.completedParts.append(part)
            if var buffer, self.spare == nil, self.uploadID != nil {
                // Only the indices are reset here: if the HTTP client still held the storage, the next write would
                // copy it (ByteBuffer is copy-on-write), never change what it sends.
                buffer.moveReaderIndex(to: 0)
                buffer.moveWriterIndex(to: 0)
                self.spare = buffer
            }
        } catch {
            throw S3FileSystem.fileSystemError(error, path: self.path)
        }
    }
}
