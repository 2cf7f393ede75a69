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

            Every option can also come from the environment or a configuration file. Variables: \
            \(SettingKey.all.map(\.variable).joined(separator: ", ")), and FSTPY_CONFIG for --config. The \
            configuration file is one JSON object whose keys are the long flag names without dashes (fs-url for \
            FS_URL), e.g. {"port": 2121, "max-download-rate": "10M", "idle-timeout": "5m"}. A flag wins over its \
            variable, a variable over the file, the file over the default. fstpyd --check-config checks everything \
            (credentials file included), prints the effective settings and exits.

            Durations take a unit (500ms, 30s, 5m, 1h; a plain number is seconds); rates are bytes a second with \
            an optional K, M or G (512K, 10M), 0 for no limit.

            Signals: SIGTERM or SIGINT stop accepting, close idle sessions with 421, let transfers in flight finish \
            up to --shutdown-timeout, then abort them (426) and exit. SIGHUP reloads the credentials file for new \
            logins without dropping a session; a bad file keeps the previous users (an error is logged).

            FTPS (AUTH TLS, and implicit TLS on --implicit-tls-port) is offered when server.crt and server.key (or \
            --crtfile/--keyfile) are present; the first run makes a self-signed certificate in memory. TLS 1.2 and \
            1.3 only. SIGHUP also reloads the key and certificate for new sessions.
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

    @Flag(
        name: .customLong("plain-passwords"),
        inversion: .prefixedNo,
        help: "The credentials file holds plain passwords, not MD5 hashes. Default: off."
    )
    public var plainPasswords: Bool?

    @Option(name: [.customShort("k"), .long], help: "TLS private key (PEM, RSA or EC). Default: server.key.")
    public var keyfile: String?

    @Option(name: [.customShort("c"), .long], help: "TLS certificate chain (PEM, server first). Default: server.crt.")
    public var crtfile: String?

    @Option(
        name: .customLong("implicit-tls-port"),
        help: "Also serve implicit FTPS (TLS from connect, data protected) on this port. Default: off."
    )
    public var implicitTLSPort: Int?

    @Flag(
        name: .customLong("tls-required"),
        help: "Refuse USER/PASS on a control connection without TLS (534/530)."
    )
    public var tlsRequired = false

    @Flag(
        name: .customLong("tls-data-required"),
        help: "Refuse PROT C and transfers on clear data connections (534/521)."
    )
    public var tlsDataRequired = false

    @Flag(
        name: .customLong("tls-require-session-reuse"),
        help: "Refuse protected data connections that do not resume the control connection's TLS session (522)."
    )
    public var tlsRequireSessionReuse = false

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

    @OptionGroup(title: "Limits, timeouts, bandwidth and shutdown")
    var limits: LimitOptions

    @OptionGroup(title: "Events, metrics and transfer log")
    var monitoring: MonitoringOptions

    @Option(name: .long, help: "A JSON configuration file (see below). Default: none.")
    public var config: String?

    @Flag(
        name: .customLong("check-config"),
        help: "Check the settings, the storage URL and the credentials file, print the effective settings, and exit."
    )
    public var checkConfig = false

    public init() {}

    /// The flags given on the command line, as text by setting.
    var givenFlags: [SettingKey: String] {
        var values = self.limits.given.merging(self.monitoring.given) { flag, _ in flag }
        values[.fsURL] = self.fsURL
        values[.address] = self.address
        values[.port] = self.port.map(String.init)
        values[.masquerade] = self.masquerade
        values[.passivePortsLower] = self.passivePortsLower.map(String.init)
        values[.passivePortsUpper] = self.passivePortsUpper.map(String.init)
        values[.credentials] = self.credentials
        values[.plainPasswords] = self.plainPasswords.map(String.init)
        values[.keyfile] = self.keyfile
        values[.crtfile] = self.crtfile
        values[.implicitTLSPort] = self.implicitTLSPort.map(String.init)
        // A flag that is not given leaves the variable and the file free to set the value.
        if self.tlsRequired { values[.tlsRequired] = "true" }
        if self.tlsDataRequired { values[.tlsDataRequired] = "true" }
        if self.tlsRequireSessionReuse { values[.tlsRequireSessionReuse] = "true" }
        values[.banner] = self.banner
        values[.maxConnections] = self.maxConnections.map(String.init)
        values[.maxConnectionsPerIP] = self.maxConnectionsPerIP.map(String.init)
        values[.logLevel] = self.logLevel
        return values
    }

    public func run() async throws {
        do {
            let settings = try await Settings(
                flags: self.givenFlags,
                environment: ProcessInfo.processInfo.environment,
                configFile: self.config
            )
            if self.checkConfig {
                try await Self.check(settings)
                return
            }
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
        let firstRun = settings.isFirstRun
        let (fileSystem, authorizer, reloadableUsers) = try await settings.openStorageAndUsers(logger: logger)
        // The TLS identity new sessions get; SIGHUP reloads it (a bad pair keeps the current one; sessions in
        // progress are not touched).
        let tlsIdentity = try settings.tlsIdentity(firstRun: firstRun, logger: logger)
        let monitoring = try await DaemonMonitoring.start(
            settings.monitoring,
            listenHost: settings.configuration.host,
            logger: logger
        )
        var serviceConfiguration = settings.configuration
        serviceConfiguration.tls.identity = tlsIdentity
        serviceConfiguration.monitoring.eventHandlers = monitoring.eventHandlers
        let service = FTPService(
            configuration: serviceConfiguration,
            fileSystem: fileSystem,
            authorizer: authorizer,
            logger: logger,
            onServerRunning: { address in
                logger.info("fstpyd serving \(settings.redactedURL) on \(address.displayText)")
                if let identity = tlsIdentity?.current {
                    logger.info(
                        "FTPS on: AUTH TLS on the control port",
                        metadata: ["tls.subject": "\(identity.subject)", "tls.sha256": "\(identity.fingerprint)"]
                    )
                } else {
                    logger.info("FTPS off: no usable \(settings.crtfile) and \(settings.keyfile); plain FTP only")
                }
            },
            onImplicitTLSRunning: { address in
                logger.info("fstpyd serving implicit FTPS on \(address.displayText)")
            }
        )
        let reload = ReloadService(
            actions: Self.reloadActions(settings: settings, users: reloadableUsers, tlsIdentity: tlsIdentity),
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(
            // The webhook, the ZeroMQ publisher and the metrics endpoint come first, so they stop after the FTP
            // service has emitted its last event.
            services: monitoring.services.map { .init(service: $0) } + [
                .init(service: service),
                // Listed last, so stopped first at shutdown; its end must not stop the FTP service's drain.
                .init(service: reload, successTerminationBehavior: .ignore),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // A backstop: the FTP service closes everything at its own deadline; past this, the group cancels it.
        configuration.maximumGracefulShutdownDuration = settings.configuration.timeouts.shutdown + .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch let error as IOError {
            let reason = String(cString: strerror(error.errnoCode))
            var ports = "\(settings.configuration.port)"
            if let implicitPort = settings.configuration.tls.implicitPort { ports += " or \(implicitPort)" }
            throw StartupError("cannot listen on \(settings.configuration.host):\(ports): \(reason)")
        } catch let error as SocketAddressError.UnknownHost {
            throw StartupError("cannot listen on '\(error.host)': not an address or a known host name")
        } catch {
            throw StartupError("\(error)")
        }
    }
}

extension FstpydCommand {
    /// What SIGHUP reloads, in order. Each entry reloads one part for new sessions and throws, changing nothing,
    /// when the new state is unusable. Add a reloadable part here.
    static func reloadActions(
        settings: Settings,
        users: ReloadableAuthorizer?,
        tlsIdentity: TLSIdentityStore?
    ) -> [ReloadAction] {
        var actions: [ReloadAction] = []
        if let users {
            actions.append(ReloadAction(name: "credentials file \(settings.credentials)") { try await users.reload() })
        }
        // Only a pair read from files reloads (the first run's in-memory certificate has none).
        if let tlsIdentity, tlsIdentity.source != .memory {
            actions.append(
                ReloadAction(name: "TLS pair \(settings.crtfile) and \(settings.keyfile)") {
                    try tlsIdentity.reload()
                }
            )
        }
        return actions
    }

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
    /// Makes NIO's event loops Swift concurrency's global executor, so that a session task resumes on the event loop
    /// that read its command or its data instead of hopping to another pool of threads and back for every read and
    /// reply. Call once, from `main.swift`, before anything else runs.
    public static func adoptEventLoopsAsGlobalExecutor() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

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
