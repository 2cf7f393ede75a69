import FTPProtocol

/// The rules of one session's command sequence, as a value: events in, actions out. It owns what the sequence
/// depends on (login progress, a pending RNFR, a REST offset, TYPE, EPSV ALL, the enabled MLSx facts); the control
/// connection owns the I/O and runs the actions. Illegal sequences become replies (503), never assertions.
package struct SessionStateMachine: Sendable {
    /// Login progress. Valid transitions: `awaitingUser` → `userGiven` (USER) → `loggedIn` (PASS accepted) or back
    /// to `awaitingUser` (PASS refused); any state → `awaitingUser` on REIN.
    package enum Login: Sendable, Hashable {
        case awaitingUser
        case userGiven(String)
        case loggedIn(User)
    }

    /// What the connection does next.
    package enum Action: Sendable, Hashable {
        /// Send this reply; nothing else to do.
        case reply(FTPReply)
        /// Check these credentials, then call `loginSucceeded` or `loginFailed`.
        case authenticate(user: String, password: String)
        /// Run this command for the logged-in user. `restartOffset` is the REST offset it consumes (0 if none).
        case execute(FTPCommand, restartOffset: Int64)
        /// Rename: RNFR's accepted source, RNTO's raw argument.
        case rename(from: String, to: String)
        /// Send this reply and close the connection.
        case close(FTPReply)
    }

    package private(set) var login: Login = .awaitingUser
    package private(set) var transferType: TransferType = .binary
    package private(set) var facts: MachineListingFacts = .all
    /// Set by EPSV ALL: from then on only EPSV may set up data connections (RFC 2428 §4).
    package private(set) var extendedPassiveOnly = false
    private var restartOffset: Int64 = 0
    private var renameSource: String?
    private var failedLogins = 0
    private let maximumLoginAttempts: Int

    package init(maximumLoginAttempts: Int) {
        self.maximumLoginAttempts = maximumLoginAttempts
    }

    /// Failed logins on this connection so far.
    package var failedLoginCount: Int { self.failedLogins }

    package var user: User? {
        if case .loggedIn(let user) = self.login { return user }
        return nil
    }

    /// A command arrived.
    package mutating func commandReceived(_ command: FTPCommand) -> Action {
        // RNTO must follow RNFR immediately; REST holds only until the next transfer command.
        let renameSource = self.renameSource
        self.renameSource = nil

        switch command {
        case .user(let name):
            if case .loggedIn = self.login {
                return .reply(FTPReply(530, "Can't change to another user."))
            }
            self.login = .userGiven(name)
            return .reply(FTPReply(331, "Username ok, send password."))
        case .pass(let password):
            switch self.login {
            case .awaitingUser:
                return .reply(FTPReply(503, "Login with USER first."))
            case .loggedIn:
                return .reply(FTPReply(503, "User already authenticated."))
            case .userGiven(let name):
                return .authenticate(user: name, password: password)
            }
        case .quit:
            return .close(FTPReply(221, self.user?.logoutMessage ?? "Goodbye."))
        case .reinitialize:
            self = SessionStateMachine(maximumLoginAttempts: self.maximumLoginAttempts)
            return .reply(FTPReply(220, "Ready for new user."))
        case .type(let type):
            self.transferType = type
            return .reply(FTPReply(200, type == .ascii ? "Type set to: ASCII." : "Type set to: Binary."))
        case .options(let name, let arguments) where name == "MLST":
            self.facts = MachineListingFacts(optsArgument: arguments)
            return .reply(FTPReply(200, "MLST OPTS " + self.facts.optsDescription))
        default:
            break
        }

        guard case .loggedIn = self.login else {
            if command.isAllowedBeforeLogin { return .execute(command, restartOffset: 0) }
            return .reply(FTPReply(530, "Log in with USER and PASS first."))
        }

        switch command {
        case .restart(let offset):
            self.restartOffset = offset
            return .reply(FTPReply(350, "Restarting at \(offset). Send STORE or RETRIEVE to initiate transfer."))
        case .renameFrom:
            return .execute(command, restartOffset: 0)
        case .renameTo(let destination):
            guard let source = renameSource else {
                return .reply(FTPReply(503, "Bad sequence of commands: use RNFR first."))
            }
            return .rename(from: source, to: destination)
        case .port, .passive, .extendedPort:
            if self.extendedPassiveOnly {
                return .reply(FTPReply(503, "Only EPSV is accepted after EPSV ALL."))
            }
            return .execute(command, restartOffset: 0)
        case .extendedPassive(.all):
            self.extendedPassiveOnly = true
            return .reply(FTPReply(200, "EPSV ALL command successful."))
        case .retrieve, .store, .append, .storeUnique, .list, .nameList, .machineListDirectory:
            let offset = self.restartOffset
            self.restartOffset = 0
            if offset > 0, case .append = command {
                return .reply(FTPReply(503, "Can't APPE while a REST offset is pending."))
            }
            if offset > 0, case .storeUnique = command {
                return .reply(FTPReply(503, "Can't STOU while a REST offset is pending."))
            }
            return .execute(command, restartOffset: offset)
        default:
            return .execute(command, restartOffset: 0)
        }
    }

    /// The authorizer accepted the credentials.
    package mutating func loginSucceeded(_ user: User) -> FTPReply {
        self.login = .loggedIn(user)
        self.failedLogins = 0
        return FTPReply(230, user.loginMessage ?? "Login successful.")
    }

    /// The authorizer refused the credentials.
    package mutating func loginFailed() -> Action {
        self.login = .awaitingUser
        self.failedLogins += 1
        if self.failedLogins >= self.maximumLoginAttempts {
            return .close(FTPReply(421, "Too many failed login attempts; closing the connection."))
        }
        return .reply(FTPReply(530, "Authentication failed."))
    }

    /// RNFR found its source: the next command may be RNTO.
    package mutating func renameSourceAccepted(_ path: String) {
        self.renameSource = path
    }
}
