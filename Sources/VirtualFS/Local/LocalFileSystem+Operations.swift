import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalFileSystem {
    /// Facts about the entry at `path`; a symbolic link inside the root reports its target (named as the link).
    public func info(_ path: String) async throws -> FileInfo {
        try await self.run {
            let hostPath = try self.resolve(path)
            if let status = POSIX.status(hostPath) {
                return POSIX.fileInfo(name: VirtualPath.name(path), status)
            }
            let code = errno
            // A dangling link: report the link itself.
            if code == ENOENT, let status = POSIX.linkStatus(hostPath) {
                return POSIX.fileInfo(name: VirtualPath.name(path), status)
            }
            throw POSIX.error(code, path: path)
        }
    }

    /// Creates a directory (mode `0o755` less the umask).
    public func makeDirectory(_ path: String) async throws {
        try Self.validateNewName(path)
        try await self.run {
            guard path != "/" else { throw FileSystemError.alreadyExists(path) }
            let hostPath = try self.entry(path)
            if mkdir(hostPath, 0o755) != 0 { throw POSIX.error(path: path) }
        }
    }

    /// Removes a file or a symbolic link (the link, not its target).
    public func removeFile(_ path: String) async throws {
        try await self.run {
            guard path != "/" else { throw FileSystemError.notAFile(path) }
            let hostPath = try self.entry(path)
            guard let status = POSIX.linkStatus(hostPath) else { throw POSIX.error(path: path) }
            guard !POSIX.isDirectory(status) else { throw FileSystemError.notAFile(path) }
            if unlink(hostPath) != 0 { throw POSIX.error(path: path) }
        }
    }

    /// Removes an empty directory.
    public func removeDirectory(_ path: String) async throws {
        try await self.run {
            guard path != "/" else { throw FileSystemError.permissionDenied(path, "the root cannot be removed") }
            let hostPath = try self.entry(path)
            guard let status = POSIX.linkStatus(hostPath) else { throw POSIX.error(path: path) }
            guard POSIX.isDirectory(status) else { throw FileSystemError.notADirectory(path) }
            if rmdir(hostPath) != 0 {
                // Linux says ENOTEMPTY, other systems may say EEXIST.
                throw errno == EEXIST ? FileSystemError.notEmpty(path) : POSIX.error(path: path)
            }
        }
    }

    /// Renames with `rename(2)`: an existing destination file is replaced atomically.
    public func move(from source: String, to destination: String) async throws {
        try Self.validateNewName(destination)
        try await self.run {
            guard source != "/" else { throw FileSystemError.permissionDenied(source, "the root cannot be moved") }
            let sourceHost = try self.entry(source)
            guard POSIX.linkStatus(sourceHost) != nil else { throw POSIX.error(path: source) }
            if source == destination { return }
            if VirtualPath.isSelfOrDescendant(destination, of: source) {
                throw FileSystemError(
                    .invalidArgument,
                    path: destination,
                    message: "a directory cannot move into itself"
                )
            }
            let destinationHost = try self.entry(destination)
            if let status = POSIX.status(try self.resolve(destination)), POSIX.isDirectory(status) {
                throw FileSystemError.alreadyExists(destination)
            }
            if rename(sourceHost, destinationHost) != 0 { throw POSIX.error(path: destination) }
        }
    }

    /// Sets the modification time (the access time is left as it is).
    public func setModificationTime(_ path: String, to date: Date) async throws {
        guard date.timeIntervalSince1970.isFinite, abs(date.timeIntervalSince1970) < 1e15 else {
            throw FileSystemError(.invalidArgument, path: path, message: "time out of range")
        }
        try await self.run {
            let hostPath = try self.resolve(path)
            let interval = date.timeIntervalSince1970
            let seconds = interval.rounded(.down)
            var times = [
                timespec(tv_sec: 0, tv_nsec: Self.timeOmitted),
                timespec(tv_sec: time_t(seconds), tv_nsec: Int(((interval - seconds) * 1_000_000_000).rounded(.down))),
            ]
            let rc = times.withUnsafeMutableBufferPointer { utimensat(AT_FDCWD, hostPath, $0.baseAddress, 0) }
            if rc != 0 { throw POSIX.error(path: path) }
        }
    }

    // `UTIME_OMIT` is a C macro Swift does not import: "leave this time as it is" for `utimensat`.
    #if os(Linux)
        private static let timeOmitted = (1 << 30) - 2
    #else
        private static let timeOmitted = -2
    #endif

    /// Sets the permission bits.
    public func setMode(_ path: String, to mode: UInt32) async throws {
        guard mode <= 0o7777 else {
            throw FileSystemError(.invalidArgument, path: path, message: "mode out of range")
        }
        try await self.run {
            let hostPath = try self.resolve(path)
            if chmod(hostPath, mode_t(mode)) != 0 { throw POSIX.error(path: path) }
        }
    }
}
