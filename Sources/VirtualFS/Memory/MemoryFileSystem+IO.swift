import Foundation
import NIOCore
import Synchronization

extension MemoryFileSystem {
    /// Opens a snapshot of the file: later writes do not change what this reader returns.
    public func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader {
        guard offset >= 0 else {
            throw FileSystemError(.invalidArgument, path: path, message: "negative offset")
        }
        let bytes = try self.tree.withLock { tree -> ByteBuffer in
            guard case .file(let bytes) = try tree.node(at: path).content else { throw FileSystemError.notAFile(path) }
            return bytes
        }
        let start = Int(Swift.min(offset, Int64(bytes.readableBytes)))
        return MemoryFileReader(
            bytes.getSlice(at: bytes.readerIndex + start, length: bytes.readableBytes - start),
            size: Int64(bytes.readableBytes)
        )
    }

    /// Opens a writer that buffers everything and applies it at commit, for every mode.
    public func openForWriting(_ path: String, mode: WriteMode) async throws -> any FileWriter {
        try VirtualPath.validateNewName(path)
        try self.tree.withLock { tree in
            _ = try Self.existingFile(in: tree, path: path, mode: mode)
        }
        return MemoryFileWriter(fileSystem: self, path: path, mode: mode)
    }

    /// Applies a finished upload. Called by ``MemoryFileWriter/commit()``.
    func commit(_ path: String, mode: WriteMode, bytes: ByteBuffer) throws {
        try self.tree.withLock { tree in
            let existing = try Self.existingFile(in: tree, path: path, mode: mode)
            var content = existing?.fileBytes ?? ByteBuffer()
            switch mode {
            case .replace:
                content = bytes
            case .append:
                content.writeImmutableBuffer(bytes)
            case .resume(let offset):
                // `existingFile` checked 0 <= offset <= size.
                content.moveWriterIndex(to: content.readerIndex + Int(offset))
                content.writeImmutableBuffer(bytes)
            }
            if let node = existing, mode != .replace {
                node.content = .file(content)
                node.modificationTime = Date()
            } else {
                let (parent, name) = try tree.parent(of: path)
                let node = tree.makeNode(.file(content), mode: existing?.mode ?? MemoryTree.fileMode)
                parent.setChild(name, node)
            }
        }
    }

    /// The file a write would change (`nil` when it would be created), after checking the write can happen.
    private static func existingFile(in tree: MemoryTree, path: String, mode: WriteMode) throws -> MemoryNode? {
        guard path != "/" else { throw FileSystemError.notAFile(path) }
        let (parent, name) = try tree.parent(of: path)
        let existing = parent.children?[name]
        if existing?.isDirectory == true { throw FileSystemError.notAFile(path) }
        if case .resume(let offset) = mode {
            guard offset >= 0 else {
                throw FileSystemError(.invalidArgument, path: path, message: "negative offset")
            }
            guard let existing else {
                // Resuming at 0 is a plain upload; further needs something to resume.
                if offset > 0 { throw FileSystemError.notFound(path) }
                return nil
            }
            if offset > Int64(existing.fileBytes?.readableBytes ?? 0) {
                throw FileSystemError(.invalidArgument, path: path, message: "offset past the end of the file")
            }
        }
        return existing
    }
}

/// Hands out a snapshot of a file in chunks.
final class MemoryFileReader: FileReader {
    private var remaining: ByteBuffer?
    /// The whole file's size.
    let size: Int64?

    init(_ bytes: ByteBuffer?, size: Int64?) {
        self.remaining = bytes
        self.size = size
    }

    /// Memory has no descriptor to send from.
    var sendfileSource: SendfileSource? { nil }

    func read() async throws -> ByteBuffer? {
        guard var remaining = self.remaining, remaining.readableBytes > 0 else { return nil }
        let chunk = remaining.readSlice(length: Swift.min(MemoryFileSystem.chunkSize, remaining.readableBytes))
        self.remaining = remaining
        return chunk
    }

    func close() async throws {
        self.remaining = nil
    }
}

/// Collects an upload and applies it at commit.
final class MemoryFileWriter: FileWriter {
    private enum State {
        case open(ByteBuffer)
        case committed
        case aborted
    }

    private let fileSystem: MemoryFileSystem
    private let path: String
    private let mode: WriteMode
    private var state: State = .open(ByteBuffer())

    init(fileSystem: MemoryFileSystem, path: String, mode: WriteMode) {
        self.fileSystem = fileSystem
        self.path = path
        self.mode = mode
    }

    func write(_ buffer: ByteBuffer) async throws {
        guard case .open(var bytes) = self.state else {
            throw FileSystemError(.invalidArgument, path: self.path, message: "writer is finished")
        }
        // Drop the state's reference so that the buffer is uniquely referenced and grows in place.
        self.state = .aborted
        bytes.writeImmutableBuffer(buffer)
        self.state = .open(bytes)
    }

    func commit() async throws {
        switch self.state {
        case .committed:
            return
        case .aborted:
            throw FileSystemError(.invalidArgument, path: self.path, message: "writer was aborted")
        case .open(let bytes):
            self.state = .aborted
            try self.fileSystem.commit(self.path, mode: self.mode, bytes: bytes)
            self.state = .committed
        }
    }

    func abort() async {
        if case .open = self.state { self.state = .aborted }
    }
}
