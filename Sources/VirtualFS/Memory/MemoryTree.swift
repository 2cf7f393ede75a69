import Foundation
import NIOCore

/// One file or directory of a ``MemoryFileSystem``. Only ever touched under the file system's lock.
final class MemoryNode {
    enum Content {
        case file(ByteBuffer)
        case directory([String: MemoryNode])
    }

    let id: UInt64
    var content: Content
    var modificationTime: Date
    var mode: UInt32

    init(id: UInt64, content: Content, mode: UInt32, modificationTime: Date = Date()) {
        self.id = id
        self.content = content
        self.mode = mode
        self.modificationTime = modificationTime
    }

    var isDirectory: Bool {
        if case .directory = self.content { return true }
        return false
    }

    var children: [String: MemoryNode]? {
        if case .directory(let children) = self.content { return children }
        return nil
    }

    var fileBytes: ByteBuffer? {
        if case .file(let bytes) = self.content { return bytes }
        return nil
    }

    func info(name: String) -> FileInfo {
        switch self.content {
        case .file(let bytes):
            FileInfo(
                name: name,
                kind: .file,
                size: Int64(bytes.readableBytes),
                modificationTime: self.modificationTime,
                mode: self.mode,
                uniqueID: String(self.id, radix: 16)
            )
        case .directory:
            FileInfo(
                name: name,
                kind: .directory,
                modificationTime: self.modificationTime,
                mode: self.mode,
                uniqueID: String(self.id, radix: 16)
            )
        }
    }
}

/// The whole tree of a ``MemoryFileSystem``, the value its mutex guards.
struct MemoryTree {
    /// Default permission bits of new files and directories.
    static let fileMode: UInt32 = 0o644
    static let directoryMode: UInt32 = 0o755

    let root: MemoryNode
    private var lastID: UInt64 = 1

    init() {
        self.root = MemoryNode(id: 1, content: .directory([:]), mode: Self.directoryMode)
    }

    mutating func makeNode(_ content: MemoryNode.Content, mode: UInt32) -> MemoryNode {
        self.lastID += 1
        return MemoryNode(id: self.lastID, content: content, mode: mode)
    }

    /// The node at `path`.
    func node(at path: String) throws -> MemoryNode {
        var node = self.root
        for component in try VirtualPath.components(path) {
            guard let children = node.children else { throw FileSystemError.notADirectory(path) }
            guard let child = children[String(component)] else { throw FileSystemError.notFound(path) }
            node = child
        }
        return node
    }

    /// The directory that holds (or would hold) `path`, and the entry's name. Throws for the root.
    func parent(of path: String) throws -> (directory: MemoryNode, name: String) {
        guard path != "/" else {
            throw FileSystemError.permissionDenied(path, "the root has no parent")
        }
        let directory: MemoryNode
        do {
            directory = try self.node(at: VirtualPath.parent(path))
        } catch let error as FileSystemError {
            throw FileSystemError(error.code, path: path)
        }
        guard directory.isDirectory else { throw FileSystemError.notADirectory(path) }
        return (directory, VirtualPath.name(path))
    }
}

extension MemoryNode {
    /// Sets or removes a child of a directory node (does nothing on a file).
    func setChild(_ name: String, _ child: MemoryNode?) {
        guard case .directory(var children) = self.content else { return }
        // Drop our reference first so that the dictionary is uniquely referenced and mutates in place.
        self.content = .directory([:])
        children[name] = child
        self.content = .directory(children)
        self.modificationTime = Date()
    }
}
