import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over the system calls the local backend uses. Every function here blocks: call them from
/// `NIOThreadPool`, never from an event loop.
enum POSIX {
    /// The current `errno` as a ``FileSystemError`` about `path` (a path the client knows, never a host path).
    static func error(_ code: Int32 = errno, path: String) -> FileSystemError {
        switch code {
        case ENOENT: return .notFound(path)
        case EEXIST: return .alreadyExists(path)
        case ENOTEMPTY: return .notEmpty(path)
        case EACCES, EPERM: return .permissionDenied(path)
        // A symbolic link where `O_NOFOLLOW` refused one, or a link loop: the backend will not go there.
        case ELOOP: return .permissionDenied(path, "symbolic link")
        case ENOTDIR: return .notADirectory(path)
        case EISDIR: return .notAFile(path)
        case ENOSPC, EDQUOT: return FileSystemError(.insufficientStorage, path: path)
        case EINVAL: return FileSystemError(.invalidArgument, path: path, message: Self.describe(code))
        case ENAMETOOLONG: return FileSystemError(.invalidArgument, path: path, message: Self.describe(code))
        default: return FileSystemError(.backend, path: path, message: Self.describe(code))
        }
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// `lstat`, or `nil` with `errno` set.
    static func linkStatus(_ hostPath: String) -> stat? {
        var result = stat()
        let rc = hostPath.withCString { lstat($0, &result) }
        return rc == 0 ? result : nil
    }

    /// `stat` (following links), or `nil` with `errno` set.
    static func status(_ hostPath: String) -> stat? {
        var result = stat()
        let rc = hostPath.withCString { stat($0, &result) }
        return rc == 0 ? result : nil
    }

    /// `realpath`, or `nil` with `errno` set.
    static func realPath(_ hostPath: String) -> String? {
        guard let resolved = hostPath.withCString({ realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `open` retried on `EINTR`; returns the descriptor or -1 with `errno` set.
    static func openFile(_ hostPath: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        while true {
            let fd = hostPath.withCString { open($0, flags, mode) }
            if fd >= 0 || errno != EINTR { return fd }
        }
    }

    /// Writes all of `bytes` at the descriptor's current position (or at the end, with `O_APPEND`).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
        var done = 0
        while done < bytes.count {
            let written = write(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += written
        }
        return nil
    }

    static func isDirectory(_ status: stat) -> Bool { status.st_mode & S_IFMT == S_IFDIR }
    static func isRegular(_ status: stat) -> Bool { status.st_mode & S_IFMT == S_IFREG }
    static func isSymbolicLink(_ status: stat) -> Bool { status.st_mode & S_IFMT == S_IFLNK }

    /// Facts about an entry, named `name`.
    static func fileInfo(name: String, _ status: stat) -> FileInfo {
        let kind: FileKind =
            switch status.st_mode & S_IFMT {
            case S_IFREG: .file
            case S_IFDIR: .directory
            case S_IFLNK: .symbolicLink
            default: .other
            }
        #if canImport(Darwin)
            let time = status.st_mtimespec
        #else
            let time = status.st_mtim
        #endif
        let seconds = Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000
        return FileInfo(
            name: name,
            kind: kind,
            size: Int64(status.st_size),
            modificationTime: Date(timeIntervalSince1970: seconds),
            mode: UInt32(status.st_mode) & 0o7777,
            uniqueID: String(UInt64(status.st_dev), radix: 16) + "g" + String(UInt64(status.st_ino), radix: 16)
        )
    }
}
