import Logging

extension FTPService {
    /// Everything that shapes the server's behaviour. `fstpyd`'s flags and `FSTPY_*` variables map onto this and
    /// nothing else.
    public struct Configuration: Sendable {
        /// The address to listen on. `0.0.0.0` (the default) serves IPv4; `::` serves IPv6 and IPv4 clients.
        public var host: String
        /// The control port. Defaults to 2121; 0 picks a free port (tests).
        public var port: Int
        /// The text of the 220 greeting. Defaults to "FsTPy FTP server ready."
        public var banner: String
        /// Passive data connections.
        public var passive: Passive
        public var limits: Limits
        public var timeouts: Timeouts
        /// Refusing addresses that fail to log in again and again. On by default; `nil` switches it off.
        public var loginBan: LoginBan?
        /// Bandwidth limits on file transfers. None by default.
        public var bandwidth: Bandwidth
        /// The level of the one log line written per command (verb, harmless argument, reply code, user, client).
        /// Defaults to `.info`, so an administrator sees every command at the default log level; `.debug` hides them
        /// while transfers, logins and refusals stay visible.
        public var commandLogLevel: Logger.Level
        /// FTPS. Off unless ``TLS-swift.struct/identity`` is set.
        public var tls: TLS
        /// Event handlers and metrics (FTPService+Monitoring.swift).
        public var monitoring = Monitoring()

        public init(
            host: String = "0.0.0.0",
            port: Int = 2121,
            banner: String = "FsTPy FTP server ready.",
            passive: Passive = Passive(),
            limits: Limits = Limits(),
            timeouts: Timeouts = Timeouts(),
            loginBan: LoginBan? = LoginBan(),
            bandwidth: Bandwidth = Bandwidth(),
            commandLogLevel: Logger.Level = .info,
            tls: TLS = TLS()
        ) {
            self.host = host
            self.port = port
            self.banner = banner
            self.passive = passive
            self.limits = limits
            self.timeouts = timeouts
            self.loginBan = loginBan
            self.bandwidth = bandwidth
            self.commandLogLevel = commandLogLevel
            self.tls = tls
        }

        /// FTPS (RFC 4217): explicit (`AUTH TLS` on the control port) whenever an identity is set, implicit (TLS from
        /// the first byte) on a second port when one is given. TLS 1.2 and 1.3 only.
        public struct TLS: Sendable {
            /// The certificate and key; nil (the default) means no TLS at all: AUTH is answered 502.
            public var identity: TLSIdentityStore?
            /// Refuse USER and PASS on a control connection that is not protected (534/530). Defaults to false.
            public var requiredOnControl: Bool
            /// Refuse PROT C, and transfers on clear data connections (534/521). Defaults to false.
            public var requiredOnData: Bool
            /// Refuse a protected data connection that does not resume its control connection's TLS session, as
            /// vsftpd's `require_ssl_reuse` does: proof that the data connection comes from the same client. Clients
            /// that do not resume (Python's ftplib as it ships) then cannot transfer. Defaults to false.
            public var requireSessionReuse: Bool
            /// A port for implicit FTPS (TLS from connect, data protected by default), on the same address as the
            /// control port. Nil (the default): none. 0 picks a free port (tests).
            public var implicitPort: Int?

            public init(
                identity: TLSIdentityStore? = nil,
                requiredOnControl: Bool = false,
                requiredOnData: Bool = false,
                requireSessionReuse: Bool = false,
                implicitPort: Int? = nil
            ) {
                self.identity = identity
                self.requiredOnControl = requiredOnControl
                self.requiredOnData = requiredOnData
                self.requireSessionReuse = requireSessionReuse
                self.implicitPort = implicitPort
            }
        }

        /// Passive data connections: the port range they are taken from and the address announced for them.
        public struct Passive: Sendable {
            /// Ports for passive listeners. Defaults to the original's 60200...60210. When every port in the range is
            /// taken, a listener falls back to a port the system picks and a warning is logged (as pyftpdlib does),
            /// so sessions never fail for want of a port; a firewall that only opens the range then blocks that one
            /// transfer. `nil` always lets the system pick.
            public var ports: ClosedRange<Int>?
            /// The IPv4 address announced in PASV replies instead of the control connection's local address (a
            /// public address in front of NAT). EPSV replies carry no address and need none.
            public var masqueradeAddress: String?

            public init(ports: ClosedRange<Int>? = 60200...60210, masqueradeAddress: String? = nil) {
                self.ports = ports
                self.masqueradeAddress = masqueradeAddress
            }
        }

        /// Bounds on what clients may take.
        public struct Limits: Sendable {
            /// Control connections at once, in all. Defaults to 512 (the original's). Over it: 421 and close.
            public var maximumConnections: Int
            /// Control connections at once from one client address. Defaults to 25 (the original's).
            public var maximumConnectionsPerAddress: Int
            /// The longest control line, CRLF included. Defaults to 8 KiB.
            public var maximumLineLength: Int
            /// Failed logins on one connection before it is closed with 421. Defaults to 3 (pyftpdlib's).
            public var maximumLoginAttempts: Int
            /// Bytes read from a socket or a file at a time, and so the unit of a transfer's memory budget. 256 KiB.
            public var transferChunkSize: Int
            /// The kernel's receive buffer of each data connection (`SO_RCVBUF`), or nil to leave it to the kernel's
            /// automatic sizing. Defaults to 4 MiB.
            ///
            /// It bounds what an upload can have waiting in the kernel, and so what lands in the server's memory at
            /// once when a client ends an upload: on the client's close NIO reads the socket to its end, past the
            /// transfer's backpressure. Left to the kernel, the buffer grows up to `net.ipv4.tcp_rmem`'s maximum
            /// (32 MiB here) while a slow store holds the upload back; measured on a 1 GiB upload to S3, 20-25 MiB
            /// arrived at once at the end. 4 MiB still allows ~40 MB/s per upload at a 100 ms round trip.
            ///
            /// Applied only where `net.core.rmem_max` allows the whole size (Linux): the kernel would cut a larger
            /// request down to it, below what its automatic sizing reaches, and uploads over long round trips would
            /// slow down. (`TCP_WINDOW_CLAMP` is no alternative: the automatic sizing moves the clamp up with the
            /// buffer.)
            public var dataReceiveBuffer: Int?

            public init(
                maximumConnections: Int = 512,
                maximumConnectionsPerAddress: Int = 25,
                maximumLineLength: Int = 8192,
                maximumLoginAttempts: Int = 3,
                transferChunkSize: Int = 256 * 1024,
                dataReceiveBuffer: Int? = 4 << 20
            ) {
                self.maximumConnections = maximumConnections
                self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
                self.maximumLineLength = maximumLineLength
                self.maximumLoginAttempts = maximumLoginAttempts
                self.transferChunkSize = transferChunkSize
                self.dataReceiveBuffer = dataReceiveBuffer
            }
        }

        /// Time limits.
        public struct Timeouts: Sendable {
            /// A control connection with no command for this long (and no transfer running) gets 421 and is closed.
            /// Defaults to 300 seconds (pyftpdlib's).
            public var idle: Duration
            /// How long a transfer command waits for its data connection (the client's connect to a passive port, or
            /// ours to its PORT address). Defaults to 30 seconds.
            public var dataConnection: Duration
            /// An open data connection on which no byte moves for this long is closed, and the transfer answered with
            /// 426. Defaults to 60 seconds.
            public var stalledTransfer: Duration
            /// A reply that cannot be written for this long (a client that sends commands but never reads the
            /// replies) closes the control connection. Defaults to 60 seconds.
            public var replyWrite: Duration
            /// The pause before answering the first failed login of a connection, counted from the start of the
            /// attempt and the same for a wrong user and a wrong password. It doubles with each further failure on
            /// the connection, up to ``maximumFailedLoginDelay``. Defaults to 1 second.
            public var failedLoginDelay: Duration
            /// The longest pause after a failed login. Defaults to 8 seconds.
            public var maximumFailedLoginDelay: Duration
            /// On graceful shutdown, how long transfers in flight may take to finish before they are aborted (426)
            /// and every session is closed. Idle sessions are closed at once. Defaults to 30 seconds.
            public var shutdown: Duration

            public init(
                idle: Duration = .seconds(300),
                dataConnection: Duration = .seconds(30),
                stalledTransfer: Duration = .seconds(60),
                replyWrite: Duration = .seconds(60),
                failedLoginDelay: Duration = .seconds(1),
                maximumFailedLoginDelay: Duration = .seconds(8),
                shutdown: Duration = .seconds(30)
            ) {
                self.idle = idle
                self.dataConnection = dataConnection
                self.stalledTransfer = stalledTransfer
                self.replyWrite = replyWrite
                self.failedLoginDelay = failedLoginDelay
                self.maximumFailedLoginDelay = maximumFailedLoginDelay
                self.shutdown = shutdown
            }

            /// The pause after the `failures`-th failed login on one connection (1 for the first).
            package func failedLoginDelay(afterFailures failures: Int) -> Duration {
                var delay = self.failedLoginDelay
                var step = 1
                while step < failures, delay < self.maximumFailedLoginDelay {
                    delay *= 2
                    step += 1
                }
                return min(delay, max(self.maximumFailedLoginDelay, self.failedLoginDelay))
            }
        }

        /// A per-address ban after repeated failed logins across connections (as SFTPGo's defender or ProFTPD's
        /// mod_ban): `maximumFailures` failed logins from one address within `window` refuse that address with 421
        /// for `duration`, at connect and at any further PASS. The ban expires by itself.
        public struct LoginBan: Sendable {
            /// Failed logins within `window` that ban an address. Defaults to 10.
            public var maximumFailures: Int
            /// How far back failures count. Defaults to 10 minutes.
            public var window: Duration
            /// How long a ban lasts. Defaults to 15 minutes.
            public var duration: Duration
            /// Addresses remembered at once (failures and bans), so a flood of addresses cannot grow memory without
            /// bound; when full, the entry idle the longest is forgotten. Defaults to 10,000.
            public var maximumTrackedAddresses: Int

            public init(
                maximumFailures: Int = 10,
                window: Duration = .seconds(600),
                duration: Duration = .seconds(900),
                maximumTrackedAddresses: Int = 10_000
            ) {
                self.maximumFailures = maximumFailures
                self.window = window
                self.duration = duration
                self.maximumTrackedAddresses = maximumTrackedAddresses
            }
        }

        /// Bandwidth limits in bytes per second, for file transfers (RETR, STOR, APPE, STOU). `nil` is unlimited.
        /// A server-wide limit is shared by every transfer in that direction; a per-user limit by every transfer of
        /// one user, across their sessions. A transfer under both waits for both.
        public struct Bandwidth: Sendable, Hashable {
            /// All downloads together.
            public var maximumDownloadRate: Int?
            /// All uploads together.
            public var maximumUploadRate: Int?
            /// Each user's downloads together.
            public var userMaximumDownloadRate: Int?
            /// Each user's uploads together.
            public var userMaximumUploadRate: Int?

            public init(
                maximumDownloadRate: Int? = nil,
                maximumUploadRate: Int? = nil,
                userMaximumDownloadRate: Int? = nil,
                userMaximumUploadRate: Int? = nil
            ) {
                self.maximumDownloadRate = maximumDownloadRate
                self.maximumUploadRate = maximumUploadRate
                self.userMaximumDownloadRate = userMaximumDownloadRate
                self.userMaximumUploadRate = userMaximumUploadRate
            }
        }
    }
}
