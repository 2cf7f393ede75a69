import Foundation
import NIOCore
import Synchronization

/// A view of another file system rooted at one of its directories (a user's home): `/` is `root`, `/a/b` is
/// `root/a/b`.
///
/// Errors from the base are rewritten to carry the path in this view, so a client never learns the prefix.
public struct SubFileSystem: VirtualFileSystem {
    /// The file system underneath.
    public let base: any VirtualFileSystem
    /// The directory of `base` this view shows as `/` (absolute, normalized).
    public let root: String

    /// A view of `base` rooted at `root`, an absolute normalized path (a trailing slash is dropped).
    public init(base: any VirtualFileSystem, root: String) {
        var root = root.hasPrefix("/") ? root : "/" + root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.base = base
        self.root = root
    }

    /// Whatever the base can do.
    public var capabilities: FileSystemCapabilities { self.base.capabilities }

    /// The base path of a path in this view.
    func basePath(_ path: String) -> String {
        if self.root == "/" { return path }
        return path == "/" ? self.root : self.root + path
    }

    /// The path in this view of a base path (`fallback` for a base path outside the view).
    func viewPath(_ basePath: String, fallback: String) -> String {
        if self.root == "/" { return basePath }
        if basePath == self.root { return "/" }
        if basePath.hasPrefix(self.root + "/") { return String(basePath.dropFirst(self.root.count)) }
        return fallback
    }

    /// Runs `body`, rewriting the path of a ``FileSystemError`` it throws.
    func translatingErrors<T>(_ path: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch var error as FileSystemError {
            error.path = self.viewPath(error.path, fallback: path)
            throw error
        }
    }

    /// Facts about `path` in the view; the view's root is named `/`.
    public func info(_ path: String) async throws -> FileInfo {
        var info = try await self.translatingErrors(path) { try await self.base.info(self.basePath(path)) }
        if path == "/" { info.name = "/" }
        return info
    }

    /// Lists a directory of the view; errors while paging carry paths of the view too.
    public func list(_ directory: String) async throws -> DirectoryListing {
        let pages = try await self.translatingErrors(directory) { try await self.base.list(self.basePath(directory)) }
        let view = self
        let iterator = PageIterator(base: pages.makeAsyncIterator())
        return DirectoryListing(
            AsyncThrowingStream(unfolding: {
                try await view.translatingErrors(directory) { try await iterator.next() }
            })
        )
    }

    /// Creates a directory in the base.
    public func makeDirectory(_ path: String) async throws {
        try await self.translatingErrors(path) { try await self.base.makeDirectory(self.basePath(path)) }
    }

    /// Removes a file from the base.
    public func removeFile(_ path: String) async throws {
        try await self.translatingErrors(path) { try await self.base.removeFile(self.basePath(path)) }
    }

    /// Removes an empty directory from the base; never the view's root.
    public func removeDirectory(_ path: String) async throws {
        guard path != "/" else { throw FileSystemError.permissionDenied(path, "the root cannot be removed") }
        try await self.translatingErrors(path) { try await self.base.removeDirectory(self.basePath(path)) }
    }

    /// Moves within the view; never the view's root.
    public func move(from source: String, to destination: String) async throws {
        guard source != "/" else { throw FileSystemError.permissionDenied(source, "the root cannot be moved") }
        try await self.translatingErrors(source) {
            try await self.base.move(from: self.basePath(source), to: self.basePath(destination))
        }
    }

    /// Sets a modification time in the base.
    public func setModificationTime(_ path: String, to date: Date) async throws {
        try await self.translatingErrors(path) {
            try await self.base.setModificationTime(self.basePath(path), to: date)
        }
    }

    /// Sets permission bits in the base.
    public func setMode(_ path: String, to mode: UInt32) async throws {
        try await self.translatingErrors(path) { try await self.base.setMode(self.basePath(path), to: mode) }
    }

    /// Opens a base file for reading; the reader's errors carry paths of the view.
    public func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader {
        let reader = try await self.translatingErrors(path) {
            try await self.base.openForReading(self.basePath(path), from: offset)
        }
        return SubFileReader(base: reader, view: self, path: path)
    }

    /// Opens a base file for writing; the writer's errors carry paths of the view.
    public func openForWriting(_ path: String, mode: WriteMode) async throws -> any FileWriter {
        let writer = try await self.translatingErrors(path) {
            try await self.base.openForWriting(self.basePath(path), mode: mode)
        }
        return SubFileWriter(base: writer, view: self, path: path)
    }
}

/// Shares one listing iterator with the `unfolding` closure of a stream. The iterator is moved out of the mutex
/// for each call, so two consumers of the same listing get an error instead of a data race.
private final class PageIterator: Sendable {
    // @unchecked: the iterator is only ever moved, into the mutex or out of it for the duration of one `next()`
    // call, so it is never used by two tasks at once; the region checker cannot follow that move across an `await`.
    private struct Box: @unchecked Sendable {
        var iterator: DirectoryListing.AsyncIterator
    }

    private let base: Mutex<Box?>

    init(base: DirectoryListing.AsyncIterator) {
        self.base = Mutex(Box(iterator: base))
    }

    func next() async throws -> [FileInfo]? {
        guard var box = self.base.withLock({ $0.take() }) else {
            throw FileSystemError(.invalidArgument, path: "/", message: "a listing cannot be iterated concurrently")
        }
        let page = try await box.iterator.next()
        self.base.withLock { [box] in $0 = box }
        return page
    }
}

/// A reader of the base whose errors carry paths of the view.
private final class SubFileReader: FileReader {
    private let base: any FileReader
    private let view: SubFileSystem
    private let path: String

    init(base: any FileReader, view: SubFileSystem, path: String) {
        self.base = base
        self.view = view
        self.path = path
    }

    var sendfileSource: SendfileSource? { self.base.sendfileSource }

    var size: Int64? { self.base.size }

    func read() async throws -> ByteBuffer? {
        try await self.view.translatingErrors(self.path) { try await self.base.read() }
    }

    func close() async throws {
        try await self.view.translatingErrors(self.path) { try await self.base.close() }
    }
}

/// A writer of the base whose errors carry paths of the view.
private final class SubFileWriter: FileWriter {
    private let base: any FileWriter
    private let view: SubFileSystem
    private let path: String

    init(base: any FileWriter, view: SubFileSystem, path: String) {
        self.base = base
        self.view = view
        self.path = path
    }

    func write(_ buffer: ByteBuffer) async throws {
        try await self.view.translatingErrors(self.path) { try await self.base.write(buffer) }
    }

    func commit() async throws {
        try await self.view.translatingErrors(self.path) { try await self.base.commit() }
    }

    func abort() async {
        await self.base.abort()
    }
}
