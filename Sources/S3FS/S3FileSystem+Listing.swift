import S3Client
import Synchronization
import VirtualFS

extension S3FileSystem {
    /// The entries of a directory, one ListObjectsV2 page (up to 1,000 keys) at a time, the next page fetched while
    /// the previous one is being sent: never more than two pages in memory, whatever the size of the bucket.
    ///
    /// Files are the keys right below the directory's prefix; directories are the common prefixes (keys further
    /// down, markers included). The directory's own marker is not an entry. Names that cannot be shown safely (empty,
    /// `.`, `..`, line breaks) are left out.
    public func list(_ directory: String) async throws -> DirectoryListing {
        try Self.validate(directory)
        let prefix = self.directoryPrefix(directory)
        let pageSize = self.configuration.listPageSize
        let bucket = self.bucket
        let first = try await self.mapErrors(directory) {
            try await bucket.listObjects(prefix: prefix, delimiter: "/", maxKeys: pageSize)
        }
        if directory != "/", first.isEmpty {
            // Nothing below: not a directory. Say whether it is a file or nothing at all.
            let object = try await self.mapErrors(directory) { try await bucket.headObject(self.key(directory)) }
            throw object == nil ? FileSystemError.notFound(directory) : FileSystemError.notADirectory(directory)
        }
        let pages = ListingPages(bucket: bucket, prefix: prefix, pageSize: pageSize, first: first, path: directory)
        return DirectoryListing(AsyncThrowingStream(unfolding: { try await pages.next() }))
    }
}

/// Produces a directory listing's pages on demand, keeping one ListObjectsV2 request ahead.
final class ListingPages: Sendable {
    private struct State {
        var first: S3ListPage?
        var pending: Task<S3ListPage, any Error>?
    }

    private let bucket: S3Bucket
    private let prefix: String
    private let pageSize: Int
    private let path: String
    private let state: Mutex<State>

    init(bucket: S3Bucket, prefix: String, pageSize: Int, first: S3ListPage, path: String) {
        self.bucket = bucket
        self.prefix = prefix
        self.pageSize = pageSize
        self.path = path
        self.state = Mutex(State(first: first))
    }

    deinit {
        // The consumer stopped early (an aborted listing): drop the request ahead.
        self.state.withLock { $0.pending?.cancel() }
    }

    /// The next non-empty page of entries, or nil after the last.
    func next() async throws -> [FileInfo]? {
        while true {
            let (first, pending) = self.state.withLock { state in
                defer {
                    state.first = nil
                    state.pending = nil
                }
                return (state.first, state.pending)
            }
            let page: S3ListPage
            if let first {
                page = first
            } else if let pending {
                do {
                    page = try await pending.value
                } catch {
                    throw S3FileSystem.fileSystemError(error, path: self.path)
                }
            } else {
                return nil
            }
            if let token = page.nextContinuationToken {
                let (bucket, prefix, pageSize) = (self.bucket, self.prefix, self.pageSize)
                let task = Task {
                    try await bucket.listObjects(
                        prefix: prefix,
                        delimiter: "/",
                        continuationToken: token,
                        maxKeys: pageSize
                    )
                }
                self.state.withLock { $0.pending = task }
            }
            let entries = self.entries(page)
            if !entries.isEmpty { return entries }
            if page.nextContinuationToken == nil { return nil }
        }
    }

    private func entries(_ page: S3ListPage) -> [FileInfo] {
        var entries: [FileInfo] = []
        entries.reserveCapacity(page.objects.count + page.commonPrefixes.count)
        for object in page.objects where object.key.hasPrefix(self.prefix) && object.key != self.prefix {
            let name = object.key.dropFirst(self.prefix.count)
            guard S3FileSystem.isListable(name), !name.contains("/") else { continue }
            entries.append(
                FileInfo(name: String(name), kind: .file, size: object.size, modificationTime: object.lastModified)
            )
        }
        for common in page.commonPrefixes where common.hasPrefix(self.prefix) && common.hasSuffix("/") {
            let name = common.dropFirst(self.prefix.count).dropLast()
            guard S3FileSystem.isListable(name) else { continue }
            entries.append(FileInfo(name: String(name), kind: .directory))
        }
        return entries
    }
}
