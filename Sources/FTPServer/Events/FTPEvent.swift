import FTPProtocol
import Foundation

/// Something that happened on the server: the hooks of the original (pyftpdlib's `on_connect`, `on_disconnect`,
/// `on_login`, `on_login_failed`, `on_logout`, `on_file_sent`, `on_file_received`, `on_incomplete_file_sent`,
/// `on_incomplete_file_received`) as one value that ``FTPEventHandler``s receive.
///
/// An event never carries a password: `login_failed` names the user as typed (at most 64 characters), nothing more.
public struct FTPEvent: Sendable, Hashable {
    /// Which hook this is. The raw values are the original's hook names without `on_`.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A client connected (and was admitted: connections refused for a limit are not sessions).
        case connect
        /// A session ended, whatever the reason (QUIT, the client went away, a timeout, shutdown).
        case disconnect
        /// A user logged in.
        case login
        /// A login was refused (wrong user or wrong password: the event does not say which).
        case loginFailed = "login_failed"
        /// A logged-in user's session ended (QUIT, REIN, the client went away).
        case logout
        /// A download (RETR) completed.
        case fileSent = "file_sent"
        /// An upload (STOR, APPE, STOU) completed and is stored.
        case fileReceived = "file_received"
        /// A download ended early: ABOR, the client went away, it stalled, the data connection or the storage failed.
        case incompleteFileSent = "incomplete_file_sent"
        /// An upload ended early or could not be stored; what was sent is not published (uploads are atomic).
        case incompleteFileReceived = "incomplete_file_received"

        /// Whether the event is about a transfer (and so has ``FTPEvent/transfer``).
        public var isTransfer: Bool {
            switch self {
            case .fileSent, .fileReceived, .incompleteFileSent, .incompleteFileReceived: true
            default: false
            }
        }
    }

    /// The client's end of the control connection.
    public struct Client: Sendable, Hashable {
        /// The client's IP address as text (`192.0.2.7`, `2001:db8::7`), or `?` when unknown.
        public var address: String
        /// The client's port, when known.
        public var port: Int?

        public init(address: String, port: Int?) {
            self.address = address
            self.port = port
        }
    }

    /// A file transfer, for the four transfer kinds.
    public struct Transfer: Sendable, Hashable {
        /// Which way the bytes went.
        public enum Direction: String, Sendable, Hashable {
            /// From the server to the client (RETR).
            case download
            /// From the client to the server (STOR, APPE, STOU).
            case upload
        }

        /// How the transfer ended.
        public enum Outcome: String, Sendable, Hashable {
            /// Every byte moved and (for uploads) the file is stored.
            case completed
            /// ABOR, the client closed the control connection during the transfer, or the shutdown deadline passed.
            case aborted
            /// No byte moved for the stalled-transfer timeout.
            case stalled
            /// The data connection failed (reset, closed early).
            case connectionFailed = "connection_failed"
            /// The storage failed (read error, write error, the upload could not be committed).
            case storageFailed = "storage_failed"
        }

        public var direction: Direction
        public var outcome: Outcome
        /// The path as the client sees it: absolute inside the user's home (`/reports/q3.csv`).
        public var path: String
        /// The same file's path in the served storage, the user's home included (`/home/alice/reports/q3.csv` for
        /// a user whose home is `/home/alice`). The same as ``path`` for a user whose home is `/`.
        public var backendPath: String
        /// Bytes moved on the data connection (for TYPE A, as they were on the wire). A download sent with sendfile
        /// (TYPE I from local storage without TLS) is counted as its pieces complete, so one cut short reports what
        /// its completed pieces held, which may be less than the client received (nothing, for a file sent in one
        /// piece).
        public var bytes: Int64
        /// From the start of the data transfer to its end.
        public var duration: Duration
        /// TYPE A or TYPE I.
        public var type: TransferType

        public init(
            direction: Direction,
            outcome: Outcome,
            path: String,
            backendPath: String,
            bytes: Int64,
            duration: Duration,
            type: TransferType
        ) {
            self.direction = direction
            self.outcome = outcome
            self.path = path
            self.backendPath = backendPath
            self.bytes = bytes
            self.duration = duration
            self.type = type
        }
    }

    public var kind: Kind
    /// When it happened (wall clock).
    public var date: Date
    /// A number for the session, unique for the life of one ``FTPService``: every event of one control connection
    /// carries the same one.
    public var session: UInt64
    public var client: Client
    /// The logged-in user; for `login_failed`, the name the client gave; nil before any USER.
    public var user: String?
    /// Set for the transfer kinds, nil for the others.
    public var transfer: Transfer?

    public init(
        kind: Kind,
        date: Date = Date(),
        session: UInt64,
        client: Client,
        user: String?,
        transfer: Transfer? = nil
    ) {
        self.kind = kind
        self.date = date
        self.session = session
        self.client = client
        self.user = user
        self.transfer = transfer
    }

    /// The event's result in one word: the transfer's outcome for transfers, `failed` for `login_failed`, `ok`
    /// for the rest.
    public var result: String {
        if let transfer { return transfer.outcome.rawValue }
        return self.kind == .loginFailed ? "failed" : "ok"
    }
}
