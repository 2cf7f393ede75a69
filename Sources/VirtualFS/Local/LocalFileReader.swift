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
    /// Opens a regular file for reading; directories and special files are `.notAFile`.
    public func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader {
        guard offset >= 0 else {
            throw FileSystemError(.invalidArgument, path: path, message: "negative offset")
        }
        let (descriptor, size) = try await self.run { () throws -> (Int32, Int64) in
            let hostPath = try self.resolve(path)
            // O_NONBLOCK so that opening a FIFO cannot hang a pool thread; it changes nothing for regular files.
            let fd = POSIX.openFile(hostPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { throw POSIX.error(path: path) }
            var status = stat()
            guard fstat(fd, &status) == 0 else {
                let code = errno
                close(fd)
                throw POSIX.error(code, path: path)
            }
            guard POSIX.isRegular(status) else {
                close(fd)
                throw FileSystemError.notAFile(path)
            }
            return (fd, Int64(status.st_size))
        }
        return LocalFileReader(path: path, descriptor: descriptor, offset: Swift.min(offset, size), end: size)
    }
}

/// Reads a local file with `pread` on the thread pool, and offers its descriptor for `sendfile`.
///
/// The reader stops at the size the file had when it was opened, the same range ``sendfileSource`` gives.
final class LocalFileReader: FileReader {
    /// The size of the chunks ``read()`` returns.
    static let chunkSize = 256 * 1024

    private let path: String
    private let handle: NIOFileHandle
    // The raw descriptor for `pread`: going through `handle` would mark it busy, and the server may be using it for
    // sendfile at the same time. It stays valid until `handle` is closed, in `close()`.
    private let descriptor: Int32
    private var offset: Int64
    private let end: Int64
    private var isClosed = false

    init(path: String, descriptor: Int32, offset: Int64, end: Int64) {
        self.path = path
        self.handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        self.descriptor = descriptor
        self.offset = offset
        self.end = end
    }

    deinit {
        // Safety net for a caller that forgot `close()`: never leak the descriptor.
        if !self.isClosed { try? self.handle.close() }
    }

    /// The size at open (`fstat`).
    var size: Int64? { self.end }

    /// The part not read yet: from the current offset to the size at open.
    var sendfileSource: SendfileSource? {
        self.isClosed ? nil : SendfileSource(handle: self.handle, offset: self.offset, end: self.end)
    }

    func read() async throws -> ByteBuffer? {
        guard !self.isClosed else {
            throw FileSystemError(.invalidArgument, path: self.path, message: "reader is closed")
        }
        guard self.offset < self.end else { return nil }
        let length = Int(Swift.min(Int64(Self.chunkSize), self.end - self.offset))
        let (fd, start, path) = (self.descriptor, self.offset, self.path)
        let buffer = try await NIOThreadPool.singleton.runOnCallersLoop { () throws -> ByteBuffer in
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { bytes in
                while true {
                    let count = pread(fd, bytes.baseAddress, length, off_t(start))
                    if count >= 0 { return count }
                    if errno != EINTR { throw POSIX.error(path: path) }
                }
            }
            return buffer
        }
        guard buffer.readableBytes > 0 else {
            // The file shrank since it was opened.
            self.offset = self.end
            return nil
        }
        self.offset += Int64(buffer.readableBytes)
        return buffer
    }

    func close() async throws {
        guard !self.isClosed else { return }
        self.isClosed = true
        let handle = self.handle
        do {
            try await NIOThreadPool.singleton.runOnCallersLoop { try handle.close() }
        } catch let error as IOError {
            // Not closed (the descriptor is busy, or already gone): let `deinit` try again.
            self.isClosed = !handle.isOpen
            throw FileSystemError(.backend, path: self.path, message: "close failed", underlying: error)
        } catch {
            // The pool is shutting down: close here rather than leak the descriptor.
            if handle.isOpen { try handle.close() }
        }
    }
}
