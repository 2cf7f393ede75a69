import Logging
import NIOCore
import S3Client
import VirtualFS

extension S3FileSystem {
    /// Writes the marker `path/`. The parent must exist (in strict mode); any existing entry is `.alreadyExists`.
    public func makeDirectory(_ path: String) async throws {
        try Self.validateNewName(path)
        guard path != "/" else { throw FileSystemError.alreadyExists(path) }
        try await self.mapErrors(path) {
            if try await self.bucket.headObject(self.key(path)) != nil { throw FileSystemError.alreadyExists(path) }
            if try await self.directoryInfo(path) != nil { throw FileSystemError.alreadyExists(path) }
            try await self.checkParent(of: path)
            try await self.bucket.putObject(self.directoryPrefix(path), body: ByteBuffer())
        }
    }

    public func removeFile(_ path: String) async throws {
        try Self.validate(path)
        guard path != "/" else { throw FileSystemError.notAFile(path) }
        try await self.mapErrors(path) {
            guard try await self.bucket.headObject(self.key(path)) != nil else {
                if try await self.directoryInfo(path) != nil { throw FileSystemError.notAFile(path) }
                throw FileSystemError.notFound(path)
            }
            try await self.bucket.deleteObject(self.key(path))
        }
        await self.keepListed(Self.parent(path))
    }

    /// Removes the marker of an empty directory. A directory with any key below it but its marker is `.notEmpty`.
    public func removeDirectory(_ path: String) async throws {
        try Self.validate(path)
        guard path != "/" else { throw FileSystemError.permissionDenied(path, "the root cannot be removed") }
        try await self.mapErrors(path) {
            let prefix = self.directoryPrefix(path)
            let page = try await self.bucket.listObjects(prefix: prefix, maxKeys: 2)
            if page.isEmpty {
                if try await self.bucket.headObject(self.key(path)) != nil { throw FileSystemError.notADirectory(path) }
                throw FileSystemError.notFound(path)
            }
            if page.objects.contains(where: { $0.key != prefix }) || !page.commonPrefixes.isEmpty {
                throw FileSystemError.notEmpty(path)
            }
            try await self.bucket.deleteObject(prefix)
        }
        await self.keepListed(Self.parent(path))
    }

    /// Renames a file (server-side copy, then delete) or a directory (every key below it, the same way).
    ///
    /// A directory is moved in two phases, so that a failure never loses data: first every key is copied below the
    /// destination (which did not exist); if a copy fails, the copies made so far are deleted again and the source is
    /// left as it was. Then the source keys are deleted; if that fails midway, the error says so, the destination is
    /// complete, and the keys not yet deleted stay at the source as well (run the rename's cleanup by deleting them).
    public func move(from source: String, to destination: String) async throws {
        try Self.validate(source)
        try Self.validateNewName(destination)
        guard source != "/" else { throw FileSystemError.permissionDenied(source, "the root cannot be moved") }
        guard destination != "/" else { throw FileSystemError.alreadyExists(destination) }
        if source == destination { return }
        try await self.mapErrors(source) {
            if let object = try await self.bucket.headObject(self.key(source)) {
                try await self.checkDestination(destination, sourceIsDirectory: false)
                try await self.copyObject(object, to: self.key(destination))
                try await self.bucket.deleteObject(object.key)
            } else if try await self.directoryInfo(source) != nil {
                if destination.hasPrefix(source + "/") {
                    throw FileSystemError(
                        .invalidArgument,
                        path: destination,
                        message: "a directory cannot move into itself"
                    )
                }
                try await self.checkDestination(destination, sourceIsDirectory: true)
                try await self.moveDirectory(from: source, to: destination)
            } else {
                throw FileSystemError.notFound(source)
            }
        }
        await self.keepListed(Self.parent(source))
    }

    /// Checks that `destination` may be written: its parent exists (strict mode), and it is not a directory (nor,
    /// when a directory moves there, anything at all).
    private func checkDestination(_ destination: String, sourceIsDirectory: Bool) async throws {
        do {
            if try await self.directoryInfo(destination) != nil {
                throw FileSystemError.alreadyExists(destination)
            }
            if sourceIsDirectory, try await self.bucket.headObject(self.key(destination)) != nil {
                throw FileSystemError.alreadyExists(destination)
            }
            try await self.checkParent(of: destination)
        } catch {
            throw Self.fileSystemError(error, path: destination)
        }
    }

    /// In strict mode, throws `.notFound` (or `.notADirectory`) when the parent directory of `path` does not exist.
    func checkParent(of path: String) async throws {
        guard self.configuration.isStrict else { return }
        let parent = Self.parent(path)
        guard parent != "/" else { return }
        if try await self.directoryInfo(parent) != nil { return }
        if try await self.bucket.headObject(self.key(parent)) != nil {
            throw FileSystemError(.notADirectory, path: path, message: "\(parent) is a file")
        }
        throw FileSystemError(.notFound, path: path, message: "no directory \(parent)")
    }

    /// Copies one object, server side: one CopyObject up to the single-copy limit, a multipart copy beyond. A
    /// directory marker is written anew (some stores, SeaweedFS among them, keep `dir/` keys as directories that
    /// CopyObject cannot read).
    func copyObject(_ object: S3Object, to key: String) async throws {
        if object.key.hasSuffix("/"), object.size == 0 {
            try await self.bucket.putObject(key, body: ByteBuffer())
            return
        }
        if object.size <= self.configuration.maximumSingleCopySize {
            try await self.bucket.copyObject(from: object.key, to: key, ifMatch: object.eTag)
            return
        }
        let uploadID = try await self.bucket.createMultipartUpload(key)
        do {
            var parts: [S3CompletedPart] = []
            let ranges = Self.copyRanges(size: object.size, maximumPart: self.configuration.maximumSingleCopySize)
            try await withThrowingTaskGroup(of: S3CompletedPart.self) { group in
                for (index, range) in ranges.enumerated() {
                    if index >= self.configuration.copyConcurrency, let part = try await group.next() {
                        parts.append(part)
                    }
                    group.addTask {
                        let eTag = try await self.bucket.uploadPartCopy(
                            key,
                            uploadID: uploadID,
                            partNumber: index + 1,
                            source: object.key,
                            range: range,
                            ifMatch: object.eTag
                        )
                        return S3CompletedPart(partNumber: index + 1, eTag: eTag)
                    }
                }
                for try await part in group { parts.append(part) }
            }
            try await self.bucket.completeMultipartUpload(key, uploadID: uploadID, parts: parts)
        } catch {
            await S3FileWriter.abandon(self.bucket, key: key, uploadID: uploadID, logger: self.logger)
            throw error
        }
    }

    /// Splits `size` bytes into ranges of at most `maximumPart` bytes, as even as possible: with `size` at least
    /// 5 MiB and `maximumPart` at least 10 MiB, every range is at least S3's 5 MiB minimum part.
    static func copyRanges(size: Int64, maximumPart: Int64) -> [ClosedRange<Int64>] {
        let count = (size + maximumPart - 1) / maximumPart
        let length = (size + count - 1) / count
        return stride(from: Int64(0), to: size, by: Int(length)).map { start in
            start...(min(start + length, size) - 1)
        }
    }

    /// Moves every key below `source/` to `destination/` (see ``move(from:to:)`` for what a failure leaves).
    private func moveDirectory(from source: String, to destination: String) async throws {
        let sourcePrefix = self.directoryPrefix(source)
        let destinationPrefix = self.directoryPrefix(destination)
        var copied = 0
        // Every directory level below the source, for the cleanup after the move.
        var directories: Set<Substring> = [Substring(sourcePrefix)]
        do {
            var token: String?
            repeat {
                let page = try await self.bucket.listObjects(
                    prefix: sourcePrefix,
                    continuationToken: token,
                    maxKeys: self.configuration.listPageSize
                )
                try await self.forEach(page.objects) { object in
                    let target = destinationPrefix + object.key.dropFirst(sourcePrefix.count)
                    try await self.copyObject(object, to: target)
                }
                copied += page.objects.count
                for object in page.objects {
                    var index = object.key.index(object.key.startIndex, offsetBy: sourcePrefix.count)
                    while let slash = object.key[index...].firstIndex(of: "/") {
                        directories.insert(object.key[...slash])
                        index = object.key.index(after: slash)
                    }
                }
                token = page.nextContinuationToken
            } while token != nil
        } catch {
            let undone = await self.deleteEverything(below: destinationPrefix)
            self.logger.error(
                "directory rename failed while copying; the source is unchanged",
                metadata: [
                    "s3.source": "\(sourcePrefix)", "s3.destination": "\(destinationPrefix)",
                    "s3.copied": "\(copied)", "s3.copies_removed": "\(undone)", "s3.error": "\(error)",
                ]
            )
            throw FileSystemError(
                .backend,
                path: source,
                message: undone
                    ? "rename failed while copying; nothing was moved"
                    : "rename failed while copying; the source is unchanged, copies may remain under \(destination)",
                underlying: error
            )
        }
        // Every key is at the destination now; delete the source keys, always re-listing from the start.
        var deleted = 0
        do {
            while true {
                let page = try await self.bucket.listObjects(prefix: sourcePrefix, maxKeys: 1000)
                if page.objects.isEmpty { break }
                let failures = try await self.bucket.deleteObjects(page.objects.map(\.key))
                if let failure = failures.first {
                    throw S3Error(
                        operation: "DeleteObjects",
                        bucket: self.bucket.name,
                        key: failure.key,
                        status: 200,
                        code: failure.error
                    )
                }
                deleted += page.objects.count
            }
            // The directory levels' own keys, deepest first: S3 has none left (deleting them is a no-op there), but
            // stores with real directories behind their S3 API (SeaweedFS) keep listing emptied ones until then.
            for directory in directories.sorted(by: { $0.count > $1.count }) {
                try await self.bucket.deleteObject(String(directory))
            }
        } catch {
            self.logger.error(
                "directory rename failed while deleting the source; the destination is complete",
                metadata: [
                    "s3.source": "\(sourcePrefix)", "s3.destination": "\(destinationPrefix)",
                    "s3.deleted": "\(deleted)", "s3.copied": "\(copied)", "s3.error": "\(error)",
                ]
            )
            throw FileSystemError(
                .backend,
                path: source,
                message: "the directory was copied to \(destination) but not every key of \(source) could be deleted",
                underlying: error
            )
        }
    }

    /// Runs `body` for every element, `copyConcurrency` at a time.
    private func forEach<Element: Sendable>(
        _ elements: [Element],
        _ body: @escaping @Sendable (Element) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, element) in elements.enumerated() {
                if index >= self.configuration.copyConcurrency { try await group.next() }
                group.addTask { try await body(element) }
            }
            try await group.waitForAll()
        }
    }

    /// Deletes every key below `prefix` (the rollback of a failed directory copy). Returns whether it succeeded.
    private func deleteEverything(below prefix: String) async -> Bool {
        do {
            while true {
                let page = try await self.bucket.listObjects(prefix: prefix, maxKeys: 1000)
                if page.objects.isEmpty { return true }
                if !(try await self.bucket.deleteObjects(page.objects.map(\.key))).isEmpty { return false }
            }
        } catch {
            return false
        }
    }

    /// Keeps `directory` listed after the last key below it went away: S3 has no directories, so one that only
    /// existed through its contents would vanish. Writes its marker then. A failure here is logged, not thrown: the
    /// operation itself succeeded.
    func keepListed(_ directory: String) async {
        guard directory != "/" else { return }
        let prefix = self.directoryPrefix(directory)
        do {
            let page = try await self.bucket.listObjects(prefix: prefix, maxKeys: 1)
            if page.isEmpty { try await self.bucket.putObject(prefix, body: ByteBuffer()) }
        } catch {
            self.logger.warning(
                "could not keep an emptied directory listed",
                metadata: ["ftp.path": "\(directory)", "s3.error": "\(error)"]
            )
        }
    }
}
