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
        /// Event handlers and metrics (FTPService+Monitoring.swift).
        public var monitoring = Monitoring()

        public init(
            host: String = "0.0.0.0",
            port: Int = 2121,
            banner: String = "FsTPy FTP server ready.",
            passive: Passive = Passive(),
            limits: Limits = Limits(),
            timeouts: Timeouts = Timeouts()
        ) {
            self.host = host
            self.port = port
            self.banner = banner
            self.passive = passive
            self.limits = limits
            self.timeouts = timeouts
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

            public init(
                maximumConnections: Int = 512,
                maximumConnectionsPerAddress: Int = 25,
                maximumLineLength: Int = 8192,
                maximumLoginAttempts: Int = 3,
                transferChunkSize: Int = 256 * 1024
            ) {
                self.maximumConnections = maximumConnections
                self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
                self.maximumLineLength = maximumLineLength
                self.maximumLoginAttempts = maximumLoginAttempts
                self.transferChunkSize = transferChunkSize
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
            /// The pause before answering a failed login, the same for a wrong user and a wrong password. Defaults to
            /// 1 second.
            public var failedLoginDelay: Duration

            public init(
                idle: Duration = .seconds(300),
                dataConnection: Duration = .seconds(30),
                failedLoginDelay: Duration = .seconds(1)
            ) {
                self.idle = idle
                self.dataConnection = dataConnection
                self.failedLoginDelay = failedLoginDelay
            }
        }
    }
}
