import Foundation
import NIOCore
import Synchronization

/// A file system that lives in memory, for tests and scratch servers. Everything is lost when it is released.
///
/// Files default to mode `0o644` and directories to `0o755`; modes are stored and reported, not enforced. Reads
/// see the file as it was when it was opened. Writes of every mode (`.replace`, `.append`, `.resume(at:)`) are
/// buffered by the writer and applied atomically at commit.
public final class MemoryFileSystem: VirtualFileSystem {
    /// The size of the chunks a reader returns.
    static let chunkSize = 256 * 1024

    let tree: Mutex<MemoryTree>

    /// An empty file system: just the root directory.
    public init() {
        self.tree = Mutex(MemoryTree())
    }

    /// Everything is supported.
    public var capabilities: FileSystemCapabilities {
        [.setMode, .setModificationTime, .append, .resume]
    }

    /// Facts about the node at `path`; the unique ID is a per-node counter, stable for the node's life.
    public func info(_ path: String) async throws -> FileInfo {
        try self.tree.withLock { tree in
            try tree.node(at: path).info(name: VirtualPath.name(path))
        }
    }

    /// Lists a snapshot of the directory taken now, sorted by name.
    public func list(_ directory: String) async throws -> DirectoryListing {
        let entries = try self.tree.withLock { tree -> [FileInfo] in
            guard let children = try tree.node(at: directory).children else {
                throw FileSystemError.notADirectory(directory)
            }
            return children.sorted { $0.key < $1.key }.map { $0.value.info(name: $0.key) }
        }
        return DirectoryListing(entries: entries, pageSize: 512)
    }

    /// Creates a directory with mode `0o755`.
    public func makeDirectory(_ path: String) async throws {
        try VirtualPath.validateNewName(path)
        try self.tree.withLock { tree in
            guard path != "/" else { throw FileSystemError.alreadyExists(path) }
            let (parent, name) = try tree.parent(of: path)
            guard parent.children?[name] == nil else { throw FileSystemError.alreadyExists(path) }
            parent.setChild(name, tree.makeNode(.directory([:]), mode: MemoryTree.directoryMode))
        }
    }

    /// Removes a file; readers already open keep their snapshot.
    public func removeFile(_ path: String) async throws {
        try self.tree.withLock { tree in
            guard path != "/" else { throw FileSystemError.notAFile(path) }
            let (parent, name) = try tree.parent(of: path)
            guard let node = parent.children?[name] else { throw FileSystemError.notFound(path) }
            guard !node.isDirectory else { throw FileSystemError.notAFile(path) }
            parent.setChild(name, nil)
        }
    }

    /// Removes an empty directory.
    public func removeDirectory(_ path: String) async throws {
        try self.tree.withLock { tree in
            guard path != "/" else { throw FileSystemError.permissionDenied(path, "the root cannot be removed") }
            let (parent, name) = try tree.parent(of: path)
            guard let node = parent.children?[name] else { throw FileSystemError.notFound(path) }
            guard let children = node.children else { throw FileSystemError.notADirectory(path) }
            guard children.isEmpty else { throw FileSystemError.notEmpty(path) }
            parent.setChild(name, nil)
        }
    }

    /// Moves a node atomically; an existing destination file is replaced.
    public func move(from source: String, to destination: String) async throws {
        try VirtualPath.validateNewName(destination)
        try self.tree.withLock { tree in
            guard source != "/" else { throw FileSystemError.permissionDenied(source, "the root cannot be moved") }
            let (sourceParent, sourceName) = try tree.parent(of: source)
            guard let node = sourceParent.children?[sourceName] else { throw FileSystemError.notFound(source) }
            if source == destination { return }
            if VirtualPath.isSelfOrDescendant(destination, of: source) {
                throw FileSystemError(
                    .invalidArgument,
                    path: destination,
                    message: "a directory cannot move into itself"
                )
            }
            guard destination != "/" else { throw FileSystemError.alreadyExists(destination) }
            let (destinationParent, destinationName) = try tree.parent(of: destination)
            if let existing = destinationParent.children?[destinationName] {
                if existing.isDirectory { throw FileSystemError.alreadyExists(destination) }
                // As rename(2): a directory cannot replace a file.
                if node.isDirectory { throw FileSystemError.notADirectory(destination) }
            }
            sourceParent.setChild(sourceName, nil)
            destinationParent.setChild(destinationName, node)
        }
    }

    /// Sets the stored modification time.
    public func setModificationTime(_ path: String, to date: Date) async throws {
        try self.tree.withLock { tree in
            try tree.node(at: path).modificationTime = date
        }
    }

    /// Sets the stored permission bits (they are reported, not enforced).
    public func setMode(_ path: String, to mode: UInt32) async throws {
        guard mode <= 0o7777 else {
            throw FileSystemError(.invalidArgument, path: path, message: "mode out of range")
        }
        try self.tree.withLock { tree in
            try tree.node(at: path).mode = mode
        }
    }
}
