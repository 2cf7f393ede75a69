import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension LocalFileSystem {
    /// Opens a file for writing.
    ///
    /// `.replace` writes a hidden temporary sibling (``temporaryFilePrefix``), created with `O_EXCL`, and renames it
    /// over the target at commit, keeping the previous file's mode. `.append` and `.resume(at:)` write in place; a
    /// resume at offset 0 creates a missing file, a resume past 0 needs an existing one.
    public func openForWriting(_ path: String, mode: WriteMode) async throws -> any FileWriter {
        try Self.validateNewName(path)
        let (descriptor, target) = try await self.run { () throws -> (Int32, LocalFileWriter.Target) in
            let hostPath = try self.resolve(path)
            switch mode {
            case .replace:
                if let status = POSIX.linkStatus(hostPath), POSIX.isDirectory(status) {
                    throw FileSystemError.notAFile(path)
                }
                let random = String(UInt64.random(in: .min ... .max), radix: 16)
                let temporary = Self.join(
                    Self.directory(of: hostPath),
                    Substring(Self.temporaryFilePrefix + random + ".tmp")
                )
                let fd = POSIX.openFile(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
                guard fd >= 0 else { throw POSIX.error(path: path) }
                return (fd, .replace(temporary: temporary, destination: hostPath))
            case .append:
                let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK
                let (fd, _) = try Self.openRegularFile(hostPath, flags, path: path)
                return (fd, .inPlace)
            case .resume(let offset):
                guard offset >= 0 else {
                    throw FileSystemError(.invalidArgument, path: path, message: "negative offset")
                }
                let flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | (offset == 0 ? O_CREAT : 0)
                let (fd, size) = try Self.openRegularFile(hostPath, flags, path: path)
                guard size >= offset else {
                    close(fd)
                    throw FileSystemError(.invalidArgument, path: path, message: "offset past the end of the file")
                }
                guard ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) >= 0 else {
                    let code = errno
                    close(fd)
                    throw POSIX.error(code, path: path)
                }
                return (fd, .inPlace)
            }
        }
        return LocalFileWriter(path: path, descriptor: descriptor, target: target)
    }

    /// Opens `hostPath` and checks it is a regular file; returns the descriptor and the size. Blocking.
    private static func openRegularFile(_ hostPath: String, _ flags: Int32, path: String) throws -> (Int32, Int64) {
        let fd = POSIX.openFile(hostPath, flags, 0o644)
        guard fd >= 0 else { throw POSIX.error(path: path) }
        var status = stat()
        guard fstat(fd, &status) == 0, POSIX.isRegular(status) else {
            close(fd)
            throw FileSystemError.notAFile(path)
        }
        return (fd, Int64(status.st_size))
    }
}

/// Writes a local file on the thread pool.
///
/// The first bytes of an upload are held back until they pass ``deferredLimit``: a small file is then written and
/// committed in one trip to the thread pool instead of two (each trip is two thread wake-ups), which counts when a
/// client sends thousands of small files. Larger uploads write every chunk as it comes.
final class LocalFileWriter: FileWriter {
    /// The most bytes held back before the first write.
    static let deferredLimit = 64 * 1024

    /// Where the bytes go.
    enum Target: Sendable {
        /// Into `temporary`, renamed over `destination` at commit.
        case replace(temporary: String, destination: String)
        /// Into the file itself (append, resume).
        case inPlace
    }

    private enum State {
        case open(Int32)
        case committed
        case aborted
    }

    private let path: String
    private let target: Target
    private var state: State
    /// Whether nothing was written yet: bytes are held back in `deferred`.
    private var deferring = true
    /// Bytes held back, not written yet (at most ``deferredLimit``).
    private var deferred: ByteBuffer?

    init(path: String, descriptor: Int32, target: Target) {
        self.path = path
        self.target = target
        self.state = .open(descriptor)
    }

    deinit {
        // Safety net for a caller that neither committed nor aborted: no leaked descriptor, no stray temporary.
        if case .open(let fd) = self.state { Self.discard(fd, self.target) }
    }

    func write(_ buffer: ByteBuffer) async throws {
        guard case .open(let fd) = self.state else {
            throw FileSystemError(.invalidArgument, path: self.path, message: "writer is finished")
        }
        let held = self.deferred
        self.deferred = nil
        if self.deferring {
            if (held?.readableBytes ?? 0) + buffer.readableBytes <= Self.deferredLimit {
                if var held {
                    var incoming = buffer
                    held.writeBuffer(&incoming)
                    self.deferred = held
                } else {
                    self.deferred = buffer
                }
                return
            }
            self.deferring = false
        }
        let path = self.path
        try await NIOThreadPool.singleton.runOnCallersLoop {
            try Self.write(held, fd: fd, path: path)
            try Self.write(buffer, fd: fd, path: path)
        }
    }

    /// Writes every readable byte of `buffer` (nothing for nil). Blocking.
    private static func write(_ buffer: ByteBuffer?, fd: Int32, path: String) throws {
        guard let buffer, buffer.readableBytes > 0 else { return }
        let failure = buffer.withUnsafeReadableBytes { POSIX.writeAll(fd, $0) }
        if let failure { throw POSIX.error(failure, path: path) }
    }

    func commit() async throws {
        switch self.state {
        case .committed: return
        case .aborted: throw FileSystemError(.invalidArgument, path: self.path, message: "writer was aborted")
        case .open(let fd):
            // Whatever happens next, the descriptor is handed over: never try to close it twice.
            self.state = .aborted
            let (path, target, held) = (self.path, self.target, self.deferred)
            self.deferred = nil
            try await NIOThreadPool.singleton.runOnCallersLoop {
                do {
                    do {
                        try Self.write(held, fd: fd, path: path)
                    } catch {
                        close(fd)
                        throw error
                    }
                    try Self.finish(fd, target, path: path)
                } catch {
                    if case .replace(let temporary, _) = target { unlink(temporary) }
                    throw error
                }
            }
            self.state = .committed
        }
    }

    func abort() async {
        guard case .open(let fd) = self.state else { return }
        self.state = .aborted
        self.deferred = nil
        let target = self.target
        do {
            try await NIOThreadPool.singleton.runOnCallersLoop { Self.discard(fd, target) }
        } catch {
            // The pool is shutting down: clean up here rather than leave a temporary behind.
            Self.discard(fd, target)
        }
    }

    /// Closes the descriptor and, for a replace, renames the temporary into place with the previous file's mode.
    private static func finish(_ fd: Int32, _ target: Target, path: String) throws {
        if case .replace(_, let destination) = target, let previous = POSIX.linkStatus(destination) {
            if POSIX.isDirectory(previous) {
                close(fd)
                throw FileSystemError.notAFile(path)
            }
            if POSIX.isRegular(previous) { fchmod(fd, previous.st_mode & 0o7777) }
        }
        // close can report a deferred write error (NFS, quotas): the upload failed then.
        if close(fd) != 0 { throw POSIX.error(path: path) }
        if case .replace(let temporary, let destination) = target, rename(temporary, destination) != 0 {
            throw POSIX.error(path: path)
        }
    }

    private static func discard(_ fd: Int32, _ target: Target) {
        close(fd)
        if case .replace(let temporary, _) = target { unlink(temporary) }
    }
}
