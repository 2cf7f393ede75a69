import FTPProtocol
import NIOCore

/// One session's side of the events: who the client is (kept from the start: a closed channel forgets its remote
/// address), the session number, and whether a user is logged in (for `logout`).
struct SessionEvents {
    let dispatcher: EventDispatcher
    let session: UInt64
    let client: FTPEvent.Client
    /// The user of the last `login`, until `logout`.
    private(set) var user: User?

    init(dispatcher: EventDispatcher, remoteAddress: SocketAddress?) {
        self.dispatcher = dispatcher
        self.session = dispatcher.makeSessionNumber()
        self.client = FTPEvent.Client(
            address: remoteAddress?.normalizedIPAddress ?? "?",
            port: remoteAddress?.port
        )
    }

    func emit(_ kind: FTPEvent.Kind, user: String?, transfer: FTPEvent.Transfer? = nil) {
        self.dispatcher.emit(
            FTPEvent(kind: kind, session: self.session, client: self.client, user: user, transfer: transfer)
        )
    }

    mutating func loggedIn(_ user: User) {
        self.user = user
        self.emit(.login, user: user.name)
    }

    /// `logout` for the logged-in user, if any (QUIT, REIN, the end of the session).
    mutating func loggedOut() {
        guard let user = self.user else { return }
        self.user = nil
        self.emit(.logout, user: user.name)
    }
}

extension ControlConnection {
    /// Emits the event of a finished transfer (`file_sent`, `file_received` or their incomplete forms) and counts it.
    func emitTransferEvent(_ outcome: TransferOutcome, verb: String, path: String) {
        if case .storageFailed(let error) = outcome {
            self.context.events.metrics.storageFailed(error)
        }
        // Listings are data transfers too, but not file transfers.
        switch verb {
        case "RETR", "STOR", "APPE", "STOU": break
        default: return
        }
        let direction: FTPEvent.Transfer.Direction = verb == "RETR" ? .download : .upload
        let result: FTPEvent.Transfer.Outcome
        switch outcome {
        case .completed: result = .completed
        case .aborted: result = .aborted
        case .stalled: result = .stalled
        case .connectionFailed, .tlsRefused: result = .connectionFailed
        case .storageFailed: result = .storageFailed
        }
        let kind: FTPEvent.Kind =
            switch (direction, result == .completed) {
            case (.download, true): .fileSent
            case (.download, false): .incompleteFileSent
            case (.upload, true): .fileReceived
            case (.upload, false): .incompleteFileReceived
            }
        let transfer = FTPEvent.Transfer(
            direction: direction,
            outcome: result,
            path: path,
            backendPath: Self.backendPath(path, home: self.session.user?.home ?? "/"),
            bytes: self.lastTransferBytes,
            duration: self.lastTransferDuration,
            type: self.session.transferType
        )
        self.events.emit(kind, user: self.session.user?.name, transfer: transfer)
    }

    /// A path inside the user's home as a path of the served storage.
    static func backendPath(_ path: String, home: String) -> String {
        if home == "/" { return path }
        return path == "/" ? home : home + path
    }
}
