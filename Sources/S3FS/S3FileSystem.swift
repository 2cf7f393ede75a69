import Foundation
import Logging
import NIOCore
import S3Client
import VirtualFS

/// A bucket (or a prefix of one) as a file system: `/a/b.txt` is the object `PREFIX/a/b.txt`.
///
/// Directories are what S3 tools make of them: a key `dir/` (a "marker", what ``makeDirectory(_:)`` writes, so that
/// an empty directory stays listed) or any key below `dir/`. Listings come from ListObjectsV2 with the `/` delimiter,
/// a page at a time. Uploads are atomic: a small file is one PutObject at commit, a large one a multipart upload
/// completed at commit and aborted on failure, so a failed upload never replaces the previous object. Appends and
/// resumed uploads are honest multipart uploads too (the kept bytes are copied by the store, see ``S3FileWriter``).
///
/// S3 keeps no permission bits and no settable modification time: `setMode` and `setModificationTime` throw
/// `.unsupported`, and ``capabilities`` says so.
public struct S3FileSystem: VirtualFileSystem {
    /// Tuning and behaviour.
    public struct Configuration: Sendable {
        /// The size of multipart upload parts (at least 5 MiB, S3's minimum). Default 5 MiB. A file smaller than one
        /// part is uploaded with one PutObject. After every 1,000 parts the part size doubles (up to 16 times), so
        /// that an upload of unknown size fits S3's 10,000 parts: about 550 GB with the default.
        public var partSize: Int
        /// Parts one upload sends at once. Default 2. An upload holds at most `partsInFlight + 1` parts in memory
        /// (15 MiB with the defaults), the one being filled included. More parts at once did not make uploads to
        /// SeaweedFS faster (scripts/bench-s3); on a store far away, more may.
        public var partsInFlight: Int
        /// The bytes the first GetObject of a download asks for; the rest of the object comes with a second one, asked
        /// for from the transfer's event loop (see `S3FileReader`). Default 4 MiB.
        public var readFirstRangeSize: Int64
        /// How each GetObject of a download holds what it received: chunks of 256 KiB (the server's transfer chunk,
        /// which every backend keeps to), 1 MiB at most, after which the store is read no further until the FTP client
        /// caught up. A chunk size is best a power of two below 1 MiB: NIO rounds a buffer's capacity up to a power of
        /// two, and fstpyd has blocks of 1 MiB and more mapped and unmapped each time rather than reused.
        public var readBuffering: S3DownloadBuffering
        /// Keys asked per listing page (ListObjectsV2 `max-keys`, at most 1,000). Default 1,000.
        public var listPageSize: Int
        /// fs-s3fs's `strict`: when true (default), creating a file or a directory, or renaming to a path, checks
        /// that its parent directory exists. When false these checks are skipped (one request less per upload), and
        /// a parent directory comes into being implicitly.
        public var isStrict: Bool
        /// Server-side copies running at once while a directory is renamed. Default 8.
        public var copyConcurrency: Int
        /// Objects larger than this are copied (renamed) with a multipart copy; between 10 MiB and S3's 5 GiB.
        /// Default 5 GiB.
        public var maximumSingleCopySize: Int64

        public init() {
            self.partSize = 5 << 20
            self.partsInFlight = 2
            self.readFirstRangeSize = 4 << 20
            self.readBuffering = S3DownloadBuffering(chunkSize: 256 << 10, limit: 1 << 20)
            self.listPageSize = 1000
            self.isStrict = true
            self.copyConcurrency = 8
            self.maximumSingleCopySize = S3Bucket.maximumPartSize
        }
    }

    public let bucket: S3Bucket
    /// The key prefix this file system is rooted at: empty, or ending with `/`.
    public let prefix: String
    public let configuration: Configuration
    let logger: Logger

    /// A file system over `bucket`, rooted at `prefix` (`""`, or `a/b` with or without slashes around it).
    public init(
        bucket: S3Bucket,
        prefix: String = "",
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "fstpy.s3")
    ) {
        self.bucket = bucket
        let parts = prefix.split(separator: "/")
        self.prefix = parts.isEmpty ? "" : parts.joined(separator: "/") + "/"
        var configuration = configuration
        configuration.partSize = max(configuration.partSize, S3Bucket.minimumPartSize)
        configuration.partsInFlight = max(1, configuration.partsInFlight)
        configuration.readFirstRangeSize = max(configuration.readFirstRangeSize, 1)
        configuration.listPageSize = min(max(1, configuration.listPageSize), 1000)
        configuration.copyConcurrency = max(1, configuration.copyConcurrency)
        // At least two minimum parts, so that splitting a larger object never makes a part below S3's minimum.
        configuration.maximumSingleCopySize = min(
            max(configuration.maximumSingleCopySize, 2 * Int64(S3Bucket.minimumPartSize)),
            S3Bucket.maximumPartSize
        )
        self.configuration = configuration
        self.logger = logger
    }

    /// Appends and resumed uploads work (as multipart uploads); modes and modification times cannot be set.
    public var capabilities: FileSystemCapabilities { [.append, .resume] }

    public func info(_ path: String) async throws -> FileInfo {
        try Self.validate(path)
        if path == "/" { return FileInfo(name: "/", kind: .directory) }
        return try await self.mapErrors(path) {
            if let object = try await self.bucket.headObject(self.key(path)) {
                return FileInfo(
                    name: Self.name(path),
                    kind: .file,
                    size: object.size,
                    modificationTime: object.lastModified
                )
            }
            if let directory = try await self.directoryInfo(path) { return directory }
            throw FileSystemError.notFound(path)
        }
    }

    /// The directory at `path`, if there is one: a marker `path/` or any key below it.
    func directoryInfo(_ path: String) async throws -> FileInfo? {
        if path == "/" { return FileInfo(name: "/", kind: .directory) }
        let prefix = self.directoryPrefix(path)
        let page = try await self.bucket.listObjects(prefix: prefix, maxKeys: 1)
        guard !page.isEmpty else { return nil }
        let marker = page.objects.first { $0.key == prefix }
        return FileInfo(name: Self.name(path), kind: .directory, modificationTime: marker?.lastModified)
    }

    public func setModificationTime(_ path: String, to date: Date) async throws {
        throw FileSystemError.unsupported(path, "S3 objects have no settable modification time")
    }

    public func setMode(_ path: String, to mode: UInt32) async throws {
        throw FileSystemError.unsupported(path, "S3 objects have no permission bits")
    }

    // MARK: Paths and keys

    /// The object key of a file path (`/a/b` → `PREFIX/a/b`).
    func key(_ path: String) -> String {
        self.prefix + path.dropFirst()
    }

    /// The key prefix of a directory path, slash-terminated (`/` → `PREFIX`, `/a` → `PREFIX/a/`).
    func directoryPrefix(_ path: String) -> String {
        path == "/" ? self.prefix : self.prefix + path.dropFirst() + "/"
    }

    /// The path of a key below the root (`PREFIX/a/b` → `/a/b`).
    func path(ofKey key: String) -> String {
        "/" + key.dropFirst(self.prefix.count)
    }

    static func name(_ path: String) -> String {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return "/" }
        return String(path[path.index(after: slash)...])
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Refuses a path that is not normalized (the server normalizes every path; this is a second line of defence).
    static func validate(_ path: String) throws {
        guard path.first == "/" else {
            throw FileSystemError(.invalidArgument, path: path, message: "not an absolute path")
        }
        guard
            path == "/"
                || !path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).contains(where: {
                    $0.isEmpty || $0 == "." || $0 == ".."
                }), !path.utf8.contains(0)
        else {
            throw FileSystemError(.invalidArgument, path: path, message: "not a normalized path")
        }
    }

    /// Refuses names a client must not create: CR and LF would let a name inject lines into replies and listings.
    static func validateNewName(_ path: String) throws {
        try Self.validate(path)
        if Self.name(path).utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw FileSystemError(.invalidArgument, path: path, message: "name contains CR, LF or NUL")
        }
    }

    /// Whether a name found in the bucket can be shown: not empty (a key `a//b`), not `.`/`..`, no line breaks.
    static func isListable(_ name: Substring) -> Bool {
        !name.isEmpty && name != "." && name != ".."
            && !name.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 })
    }

    // MARK: Errors

    /// Runs `body`, turning S3 failures into the ``FileSystemError`` the server maps to a reply.
    func mapErrors<Result>(_ path: String, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            throw Self.fileSystemError(error, path: path)
        }
    }

    static func fileSystemError(_ error: any Error, path: String) -> any Error {
        guard let error = error as? S3Error else { return error }
        if error.isNoSuchBucket {
            return FileSystemError(.notFound, path: path, message: "the bucket does not exist", underlying: error)
        }
        if error.isNotFound { return FileSystemError(.notFound, path: path, underlying: error) }
        if error.isAccessDenied {
            return FileSystemError(.permissionDenied, path: path, message: error.hint, underlying: error)
        }
        switch error.code {
        case "EntityTooLarge", "QuotaExceeded", "XMinioStorageFull", "StorageFull":
            return FileSystemError(.insufficientStorage, path: path, underlying: error)
        case "KeyTooLongError", "InvalidObjectName":
            return FileSystemError(
                .invalidArgument,
                path: path,
                message: "the store refused the name",
                underlying: error
            )
        default:
            return FileSystemError(.backend, path: path, underlying: error)
        }
    }
}
