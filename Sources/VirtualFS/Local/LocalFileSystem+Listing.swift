import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalFileSystem {
    /// How many entries one page of a listing holds.
    static let listingPageSize = 512

    /// Streams the directory with `readdir`, one page per thread-pool hop, statting each entry. `.` and `..` and
    /// upload temporaries are left out. A symbolic link reports its target when that stays inside the root,
    /// otherwise the link itself (kind `.symbolicLink`).
    public func list(_ directory: String) async throws -> DirectoryListing {
        let cursor = try await self.run {
            let hostPath = try self.resolve(directory)
            let fd = POSIX.openFile(hostPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { throw POSIX.error(path: directory) }
            guard let stream = fdopendir(fd) else {
                let code = errno
                close(fd)
                throw POSIX.error(code, path: directory)
            }
            return DirectoryCursor(fileSystem: self, directory: directory, hostPath: hostPath, stream: stream)
        }
        return DirectoryListing(
            AsyncThrowingStream(unfolding: {
                try await NIOThreadPool.singleton.runOnCallersLoop { try cursor.nextPage() }
            })
        )
    }
}

/// An open directory stream, read a page at a time. Closed at the end, or when the listing is dropped.
private final class DirectoryCursor: Sendable {
    // @unchecked: `DIR *` is a plain pointer that may be used from any thread, one at a time; it only lives inside
    // the mutex below and is only used under its lock.
    private struct State: @unchecked Sendable {
        var stream: OpaquePointer?
    }

    private let fileSystem: LocalFileSystem
    private let directory: String
    private let hostPath: String
    private let state: Mutex<State>

    init(fileSystem: LocalFileSystem, directory: String, hostPath: String, stream: OpaquePointer) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.hostPath = hostPath
        self.state = Mutex(State(stream: stream))
    }

    deinit {
        self.state.withLock { state in
            if let stream = state.stream { closedir(stream) }
            state.stream = nil
        }
    }

    /// The next page, or `nil` at the end. Blocking.
    func nextPage() throws -> [FileInfo]? {
        try self.state.withLock { state throws(FileSystemError) -> [FileInfo]? in
            guard let stream = state.stream else { return nil }
            var page: [FileInfo] = []
            page.reserveCapacity(LocalFileSystem.listingPageSize)
            while page.count < LocalFileSystem.listingPageSize {
                errno = 0
                guard let entry = readdir(stream) else {
                    let code = errno
                    closedir(stream)
                    state.stream = nil
                    if code != 0 { throw POSIX.error(code, path: self.directory) }
                    break
                }
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." || name.hasPrefix(LocalFileSystem.temporaryFilePrefix) { continue }
                if let info = self.info(name: name, directoryDescriptor: dirfd(stream)) { page.append(info) }
            }
            return page.isEmpty ? nil : page
        }
    }

    /// Facts about one entry, or `nil` when it vanished meanwhile.
    private func info(name: String, directoryDescriptor: Int32) -> FileInfo? {
        var status = stat()
        guard fstatat(directoryDescriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        if POSIX.isSymbolicLink(status),
            let target = POSIX.realPath(LocalFileSystem.join(self.hostPath, Substring(name))),
            self.fileSystem.contains(target),
            let targetStatus = POSIX.status(target)
        {
            return POSIX.fileInfo(name: name, targetStatus)
        }
        return POSIX.fileInfo(name: name, status)
    }
}
