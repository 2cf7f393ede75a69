import Foundation
import NIOCore

/// A file system an FTP session works on: local disk, memory, an object store...
///
/// Paths handed to a backend are already normalized by the server: absolute, `/`-separated, no `.` or `..`
/// components, no trailing slash (the root is `/`). A backend never has to defend against traversal in the
/// path string itself; it still has to defend its own storage (the local backend never follows a symbolic link
/// out of its root).
///
/// Every failure is thrown as a ``FileSystemError``, so that the server can map it to one FTP reply.
public protocol VirtualFileSystem: Sendable {
    /// What this backend can do beyond the basic contract.
    var capabilities: FileSystemCapabilities { get }

    /// Facts about one entry. Throws `.notFound` when there is nothing at `path`.
    func info(_ path: String) async throws -> FileInfo

    /// The entries of a directory, in pages, never the whole directory loaded at once.
    ///
    /// Errors about the directory itself (`.notFound`, `.notADirectory`, `.permissionDenied`) are thrown by this
    /// call, before any page is produced; errors while reading come out of the listing's iterator.
    func list(_ directory: String) async throws -> DirectoryListing

    /// Creates one directory. The parent must exist (`.notFound`); an existing entry is `.alreadyExists`.
    func makeDirectory(_ path: String) async throws

    /// Removes a file (not a directory: `.notAFile`).
    func removeFile(_ path: String) async throws

    /// Removes an empty directory (`.notEmpty` otherwise; `.notADirectory` for a file). Never the root.
    func removeDirectory(_ path: String) async throws

    /// Renames a file or a directory. The destination's parent must exist; an existing destination file is
    /// replaced, an existing destination directory is `.alreadyExists`.
    func move(from source: String, to destination: String) async throws

    /// Sets the modification time. Backends without `.setModificationTime` throw `.unsupported`.
    func setModificationTime(_ path: String, to date: Date) async throws

    /// Sets the permission bits (`0o000`...`0o7777`). Backends without `.setMode` throw `.unsupported`.
    func setMode(_ path: String, to mode: UInt32) async throws

    /// Opens a file for reading from `offset` (an offset past the end reads nothing).
    func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader

    /// Opens a file for writing; a directory at `path` is `.notAFile`.
    ///
    /// With `.replace`, nothing is visible until ``FileWriter/commit()``: the previous file (if any) stays as it
    /// was until then, and ``FileWriter/abort()`` leaves no trace. `.append` and `.resume(at:)` write in place.
    func openForWriting(_ path: String, mode: WriteMode) async throws -> any FileWriter
}

/// What a backend can do beyond the basic contract.
public struct FileSystemCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `setMode(_:to:)` works (SITE CHMOD).
    public static let setMode = FileSystemCapabilities(rawValue: 1 << 0)
    /// `setModificationTime(_:to:)` works (MFMT).
    public static let setModificationTime = FileSystemCapabilities(rawValue: 1 << 1)
    /// `openForWriting(_:mode: .append)` works (APPE).
    public static let append = FileSystemCapabilities(rawValue: 1 << 2)
    /// `openForWriting(_:mode: .resume(at:))` works (REST + STOR).
    public static let resume = FileSystemCapabilities(rawValue: 1 << 3)
}

/// How a file is opened for writing.
public enum WriteMode: Sendable, Hashable {
    /// Replace the whole file atomically at commit (or create it).
    case replace
    /// Add to the end of the file (create it when absent), in place.
    case append
    /// Keep the first `offset` bytes, drop the rest, and write from there, in place. An offset past the end of the
    /// file is `.invalidArgument`.
    case resume(at: Int64)
}

/// Reads one file, chunk by chunk. Used by one task at a time.
public protocol FileReader {
    /// The next chunk, or `nil` at the end of the file.
    func read() async throws -> ByteBuffer?

    /// A local descriptor and byte range the server may hand to `sendfile` instead of calling ``read()``, when
    /// the data connection is plain TCP. `nil` for backends without local files. The reader keeps ownership of the
    /// handle: it stays open until ``close()``.
    var sendfileSource: SendfileSource? { get }

    /// The file's size when it was opened, when the backend learned it while opening (a local `fstat`); `nil`
    /// otherwise. It saves the server an ``VirtualFileSystem/info(_:)`` call per download.
    var size: Int64? { get }

    /// Releases the file. Always called, also after an error.
    func close() async throws
}

extension FileReader {
    public var size: Int64? { nil }
}

/// A local file region a transfer may send with `sendfile`.
public struct SendfileSource: Sendable {
    public var handle: NIOFileHandle
    /// The first byte to send.
    public var offset: Int64
    /// One past the last byte to send (the file's size when it was opened).
    public var end: Int64

    public init(handle: NIOFileHandle, offset: Int64, end: Int64) {
        self.handle = handle
        self.offset = offset
        self.end = end
    }
}

/// Writes one file. Used by one task at a time.
public protocol FileWriter {
    /// Writes the next chunk. Suspends while the backend is busy, which is what stops reading from the client.
    func write(_ buffer: ByteBuffer) async throws

    /// Makes what was written visible (for `.replace`, atomically replaces the previous file).
    func commit() async throws

    /// Drops what was written (for `.replace`, the previous file stays as it was). Never throws; safe to call after
    /// a failed write or a failed commit, and after `commit()` (then it does nothing).
    func abort() async
}

/// The kind of a directory entry.
public enum FileKind: Sendable, Hashable {
    case file
    case directory
    case symbolicLink
    case other
}

/// Facts about one entry.
public struct FileInfo: Sendable, Hashable {
    /// The entry's name: the last component of its path (`/` for the root).
    public var name: String
    public var kind: FileKind
    /// Size in bytes (0 for directories where the backend has no size).
    public var size: Int64
    /// Last modification, when the backend knows it.
    public var modificationTime: Date?
    /// Unix permission bits (`0o755`), when the backend has them.
    public var mode: UInt32?
    /// A stable identity for MLSx `unique` (for a local file, device and inode), when the backend has one.
    public var uniqueID: String?

    public init(
        name: String,
        kind: FileKind,
        size: Int64 = 0,
        modificationTime: Date? = nil,
        mode: UInt32? = nil,
        uniqueID: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.size = size
        self.modificationTime = modificationTime
        self.mode = mode
        self.uniqueID = uniqueID
    }

    public var isDirectory: Bool { self.kind == .directory }
}

/// The entries of one directory, page by page.
public struct DirectoryListing: AsyncSequence, Sendable {
    public typealias Element = [FileInfo]
    public typealias Failure = any Error

    private let pages: AsyncThrowingStream<[FileInfo], any Error>

    /// Wraps a stream of pages. A backend produces pages lazily and stops producing when the stream is terminated.
    public init(_ pages: AsyncThrowingStream<[FileInfo], any Error>) {
        self.pages = pages
    }

    /// A listing of entries already in memory, in pages of `pageSize`.
    public init(entries: [FileInfo], pageSize: Int = 1024) {
        self.pages = AsyncThrowingStream { continuation in
            var start = 0
            while start < entries.count {
                let end = Swift.min(start + pageSize, entries.count)
                continuation.yield(Array(entries[start..<end]))
                start = end
            }
            continuation.finish()
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate var base: AsyncThrowingStream<[FileInfo], any Error>.AsyncIterator
        public mutating func next() async throws -> [FileInfo]? {
            try await self.base.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.pages.makeAsyncIterator())
    }
}
