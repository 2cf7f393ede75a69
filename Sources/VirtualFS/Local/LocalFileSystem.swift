import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A directory of the local disk, served as a ``VirtualFileSystem``.
///
/// Every system call runs on `NIOThreadPool.singleton`, never on the caller's thread (which may be an event loop).
///
/// The backend never follows a symbolic link out of its root: a path is first resolved to a real path (the real
/// path of its deepest existing ancestor, plus the components that do not exist yet), and anything that lands
/// outside the root's real path is `.permissionDenied`. A link inside the root that points inside the root works
/// as its target. Files are created with `O_NOFOLLOW`, so a dangling link cannot be used to create a file
/// elsewhere either. What remains is a race with someone who can create links inside the root on the server
/// itself while a request runs; FTP clients cannot create links.
public final class LocalFileSystem: VirtualFileSystem {
    /// The real path (no symbolic links) of the served directory.
    public let rootPath: String

    /// The prefix of the temporary files uploads write before they are renamed into place. Such files are never
    /// listed.
    public static let temporaryFilePrefix = ".fstpy-upload-"

    /// Serves the directory at `root`, resolved against the current directory when relative.
    ///
    /// Throws `.notFound` when it does not exist and `.notADirectory` when it is not a directory (blocks briefly:
    /// call it at start-up).
    public init(root: String) throws {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        guard !root.isEmpty, !root.utf8.contains(0) else {
            throw FileSystemError(.invalidArgument, path: root, message: "not a usable root path")
        }
        guard let real = POSIX.realPath(absolute) else { throw POSIX.error(path: root) }
        guard let status = POSIX.status(real) else { throw POSIX.error(path: root) }
        guard POSIX.isDirectory(status) else { throw FileSystemError.notADirectory(root) }
        self.rootPath = real
    }

    /// Changing modes and times, appending and resuming all work.
    public var capabilities: FileSystemCapabilities {
        [.setMode, .setModificationTime, .append, .resume]
    }

    /// Runs blocking work on the shared thread pool.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runOnCallersLoop(body)
    }

    /// Whether a real host path is the root or inside it.
    func contains(_ hostPath: String) -> Bool {
        self.rootPath == "/" || hostPath == self.rootPath || hostPath.hasPrefix(self.rootPath + "/")
    }

    /// Resolves `path` to a real host path, following symbolic links, and refuses anything outside the root.
    ///
    /// Components that do not exist are appended as they are (realpath of the deepest existing ancestor plus the
    /// rest). Blocking.
    func resolve(_ path: String) throws -> String {
        let components = try VirtualPath.components(path)
        var existing = components.count
        while true {
            let candidate = components[..<existing].reduce(self.rootPath) { Self.join($0, $1) }
            if let real = POSIX.realPath(candidate) {
                let resolved = components[existing...].reduce(real) { Self.join($0, $1) }
                guard self.contains(resolved) else {
                    throw FileSystemError.permissionDenied(path, "symbolic link leaves the root")
                }
                return resolved
            }
            let code = errno
            guard code == ENOENT, existing > 0 else { throw POSIX.error(code, path: path) }
            existing -= 1
        }
    }

    /// The host path of the entry at `path` itself: its resolved parent plus its name, so that a symbolic link is
    /// renamed or removed rather than its target. Also refuses a `path` that resolves outside the root. Blocking.
    func entry(_ path: String) throws -> String {
        _ = try self.resolve(path)
        guard path != "/" else { return self.rootPath }
        let parent = try self.resolve(VirtualPath.parent(path))
        return Self.join(parent, Substring(VirtualPath.name(path)))
    }

    /// Refuses names a client must not create: CR, LF and NUL, and the prefix of upload temporaries (such a file
    /// would never be listed).
    static func validateNewName(_ path: String) throws {
        try VirtualPath.validateNewName(path)
        if VirtualPath.name(path).hasPrefix(Self.temporaryFilePrefix) {
            throw FileSystemError(.invalidArgument, path: path, message: "name reserved for upload temporaries")
        }
    }

    static func join(_ base: String, _ name: Substring) -> String {
        base == "/" ? "/" + name : base + "/" + name
    }

    /// The directory part of a host path.
    static func directory(of hostPath: String) -> String {
        guard let slash = hostPath.lastIndex(of: "/"), slash != hostPath.startIndex else { return "/" }
        return String(hostPath[..<slash])
    }
}
