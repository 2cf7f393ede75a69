import FTPServer
import Logging
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Appends a ``TransferLogLine`` (the classic xferlog format) to a file for every transfer, complete or not.
///
/// Each line is written with one `write(2)` on a file opened with `O_APPEND`, on NIO's blocking-I/O thread pool:
/// never on an event loop, and never in the way of a transfer (as an event handler it has its own bounded queue). The
/// file is opened for each line and closed again, so a log rotated by renaming it needs no signal: the next line
/// creates the file anew (mode 0644).
public struct TransferLogWriter: FTPEventHandler {
    /// Why the log cannot be written.
    public struct OpenError: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private let logger: Logger
    private let threadPool: NIOThreadPool

    /// Checks that the file can be opened for appending (creating it if needed).
    public init(
        path: String,
        threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "fstpy.xferlog")
    ) throws {
        self.path = path
        self.logger = logger
        self.threadPool = threadPool
        try Self.append(nil, to: path)
    }

    public func handle(_ event: FTPEvent) async {
        guard let line = TransferLogLine.line(for: event) else { return }
        let path = self.path
        do {
            try await self.threadPool.runIfActive { try Self.append(line, to: path) }
        } catch {
            self.logger.error(
                "could not write the transfer log",
                metadata: ["ftp.xferlog": "\(path)", "ftp.error": "\(error)"]
            )
        }
    }

    /// Opens `path` for appending, writes `line` (if any) in one call, closes.
    private static func append(_ line: String?, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw OpenError(description: "cannot open the transfer log '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard let line else { return }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw OpenError(
                description: "short write to the transfer log '\(path)': \(String(cString: strerror(errno)))"
            )
        }
    }
}
