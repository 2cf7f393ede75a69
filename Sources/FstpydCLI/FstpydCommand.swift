import ArgumentParser
import FTPServer
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
import VirtualFS

#if canImport(Glibc)
    import Glibc
#endif

/// `fstpyd`: serve a file system URL over FTP. Compatible with the original FsTPy's command line.
public struct FstpydCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fstpyd",
        abstract: "Serve any storage over FTP: a local folder, memory, an S3 bucket.",
        discussion: """
            FS_URL names what is served: osfs://PATH (a local folder; relative paths allowed), mem:// (memory), \
            s3://[KEY:SECRET@]BUCKET[/PREFIX][?endpoint_url=URL&region=REGION&strict=0|1] (an S3 bucket, or a prefix \
            of one, on AWS or any S3-compatible store; keys may also come from AWS_ACCESS_KEY_ID and \
            AWS_SECRET_ACCESS_KEY or ~/.aws/credentials). \
            Without FS_URL and without a credentials file, fstpyd serves ./ftp-root (created if needed) to one \
            login with a random password, printed once at start.

            Users come from the credentials file, one a line: \
            user;md5-of-password;home;permissions;login message;logout message \
            (messages optional, blank lines and # comments allowed). home is a folder inside the served storage; \
            each user is jailed there. Permission letters: e (change directory), l (list), r (retrieve), \
            a (append), d (delete), f (rename), m (make directory), w (store), M (chmod), T (set modification time).

            Every option can also come from the environment: FSTPY_HOST, FSTPY_PORT, FSTPY_MASQUERADE, \
            FSTPY_PASSIVE_LOWER, FSTPY_PASSIVE_UPPER, FSTPY_CREDENTIALS, FSTPY_KEYFILE, FSTPY_CRTFILE, FSTPY_BANNER, \
            FSTPY_MAX_CONNECTIONS, FSTPY_MAX_CONNECTIONS_PER_IP. A flag wins over its variable.
            """
    )

    @Argument(help: "The file system to serve (osfs://PATH, mem://, s3://BUCKET...). Default: ./ftp-root.")
    public var fsURL: String?

    @Option(
        name: [.customShort("a"), .long],
        help: "The address to listen on; :: serves IPv6 and IPv4. Default: 0.0.0.0."
    )
    public var address: String?

    @Option(name: .long, help: "The control port. Default: 2121.")
    public var port: Int?

    @Option(name: [.customShort("m"), .long], help: "The IPv4 address announced in PASV replies (for NAT).")
    public var masquerade: String?

    @Option(name: .customLong("passive-ports-lower"), help: "First port for passive data connections. Default: 60200.")
    public var passivePortsLower: Int?

    @Option(name: .customLong("passive-ports-upper"), help: "Last port for passive data connections. Default: 60210.")
    public var passivePortsUpper: Int?

    @Option(name: .long, help: "The credentials file. Default: credentials.txt.")
    public var credentials: String?

    @Flag(name: .customLong("plain-passwords"), help: "The credentials file holds plain passwords, not MD5 hashes.")
    public var plainPasswords = false

    @Option(name: [.customShort("k"), .long], help: "TLS private key (PEM). Default: server.key.")
    public var keyfile: String?

    @Option(name: [.customShort("c"), .long], help: "TLS certificate chain (PEM). Default: server.crt.")
    public var crtfile: String?

    @Option(name: [.customShort("b"), .long], help: "The text of the 220 greeting.")
    public var banner: String?

    @Option(name: .customLong("max-connections"), help: "Control connections at once, in all. Default: 512.")
    public var maxConnections: Int?

    @Option(
        name: .customLong("max-connections-per-ip"),
        help: "Control connections at once from one address. Default: 25."
    )
    public var maxConnectionsPerIP: Int?

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical. Default: info."
    )
    public var logLevel: String?

    public init() {}

    public func run() async throws {
        do {
            let settings = try Settings(command: self, environment: ProcessInfo.processInfo.environment)
            try await Self.serve(settings)
        } catch let error as StartupError {
            FileHandle.standardError.write(Data("fstpyd: error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }

    private static func serve(_ settings: Settings) async throws {
        Self.tuneMemoryAllocator()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        let logger = Logger(label: "fstpyd")
        let (fileSystem, authorizer) = try await settings.openStorageAndUsers(logger: logger)
        if FileManager.default.fileExists(atPath: settings.keyfile)
            || FileManager.default.fileExists(atPath: settings.crtfile)
        {
            logger.warning("this build serves plain FTP only; FTPS is not available yet")
        }
        let service = FTPService(
            configuration: settings.configuration,
            fileSystem: fileSystem,
            authorizer: authorizer,
            logger: logger,
            onServerRunning: { address in
                logger.info("fstpyd serving \(settings.redactedURL) on \(address.displayText)")
            }
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch let error as IOError {
            let reason = String(cString: strerror(error.errnoCode))
            throw StartupError(
                "cannot listen on \(settings.configuration.host):\(settings.configuration.port): \(reason)"
            )
        } catch let error as SocketAddressError.UnknownHost {
            throw StartupError("cannot listen on '\(error.host)': not an address or a known host name")
        } catch {
            throw StartupError("\(error)")
        }
    }
}

extension FstpydCommand {
    /// Makes glibc's malloc hand blocks of 1 MiB and more (the S3 backend's upload parts) straight to `mmap`, and give
    /// them back to the system when freed. By default glibc raises that threshold after the first such block is
    /// freed, and then keeps freed parts in per-thread arenas: with uploads running on different threads the
    /// process's memory grows by a few parts per upload instead of staying within one upload's budget. Fixing the
    /// threshold also fixes the heap's trim threshold, at 128 KiB by default: 4 MiB keeps the transfer chunks (256
    /// KiB, allocated and freed all the time) from being unmapped and faulted in again and again (about a third of the
    /// CPU time of a download, measured).
    static func tuneMemoryAllocator() {
        #if canImport(Glibc)
            // <malloc.h> is not part of Swift's Glibc module: look mallopt up by name. M_TRIM_THRESHOLD is -1 and
            // M_MMAP_THRESHOLD -3 in glibc's ABI.
            typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
            _ = mallopt(-3, 1 << 20)
            _ = mallopt(-1, 4 << 20)
        #endif
    }
}

/// A problem found before serving: one line on stderr, exit status 1.
struct StartupError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension FstpydCommand {
    /// Parses the command line and runs the daemon. `main.swift` calls this rather than `main()`, which top-level
    /// code resolves to ArgumentParser's synchronous overload.
    public static func runFromCommandLine() async {
        do {
            var command = try Self.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Self.exit(withError: error)
        }
    }
}
