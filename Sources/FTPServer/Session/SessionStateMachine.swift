import FTPProtocol

/// The rules of one session's command sequence, as a value: events in, actions out. It owns what the sequence
/// depends on (login progress, a pending RNFR, a REST offset, TYPE, EPSV ALL, the enabled MLSx facts, the TLS state of
/// the control connection and the PROT level); the control connection owns the I/O and runs the actions. Illegal
/// sequences become replies (503), never assertions.
package struct SessionStateMachine: Sendable {
    /// What the server's TLS configuration allows and demands.
    package struct TLSPolicy: Sendable, Hashable {
        /// AUTH TLS is possible (a certificate is configured).
        package var offered: Bool
        /// No USER/PASS on a clear control connection.
        package var requiredOnControl: Bool
        /// No PROT C, no transfer on a clear data connection.
        package var requiredOnData: Bool

        package init(offered: Bool, requiredOnControl: Bool = false, requiredOnData: Bool = false) {
            self.offered = offered
            self.requiredOnControl = requiredOnControl
            self.requiredOnData = requiredOnData
        }

        package static let none = TLSPolicy(offered: false)
    }

    /// The PROT level. - SeeAlso: RFC 4217 §9
    package enum DataProtection: Sendable, Hashable {
        /// `PROT C`: data connections in clear (the default on the explicit port).
        case clear
        /// `PROT P`: data connections under TLS (the default on the implicit port).
        case `private`
    }

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
        /// Send this reply (234) in clear, then start TLS on the control connection.
        case startTLS(FTPReply)
        /// Answer AUTH with this refusal, then go on reading commands in clear.
        case refuseAuth(FTPReply)
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
    package let tlsPolicy: TLSPolicy
    /// The control connection runs TLS (after AUTH TLS, or from connect on the implicit port).
    package private(set) var controlProtected: Bool
    /// PBSZ was given (PROT must follow it, RFC 4217 §9).
    package private(set) var protectionBufferSizeSet: Bool
    package private(set) var dataProtection: DataProtection

    /// - Parameters:
    ///   - tls: what the server's TLS configuration allows and demands.
    ///   - implicitTLS: the connection came in on the implicit FTPS port: protected from the start, PROT P.
    package init(maximumLoginAttempts: Int, tls: TLSPolicy = .none, implicitTLS: Bool = false) {
        self.maximumLoginAttempts = maximumLoginAttempts
        self.tlsPolicy = tls
        self.controlProtected = implicitTLS
        self.protectionBufferSizeSet = implicitTLS
        self.dataProtection = implicitTLS ? .private : .clear
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
            if self.tlsPolicy.requiredOnControl && !self.controlProtected {
                return .reply(
                    FTPReply(534, "This server requires TLS: send AUTH TLS before USER (login in clear is refused).")
                )
            }
            self.login = .userGiven(name)
            return .reply(FTPReply(331, "Username ok, send password."))
        case .pass(let password):
            if self.tlsPolicy.requiredOnControl && !self.controlProtected {
                self.login = .awaitingUser
                return .reply(
                    FTPReply(530, "This server requires TLS: log in after AUTH TLS (login in clear is refused).")
                )
            }
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
            // The login goes; TLS cannot be taken back from the control connection, so its state stays.
            let tls = (self.controlProtected, self.protectionBufferSizeSet, self.dataProtection)
            self = SessionStateMachine(maximumLoginAttempts: self.maximumLoginAttempts, tls: self.tlsPolicy)
            (self.controlProtected, self.protectionBufferSizeSet, self.dataProtection) = tls
            return .reply(FTPReply(220, "Ready for new user."))
        case .authenticate(let mechanism):
            return self.authReceived(mechanism)
        case .protectionBufferSize(let size):
            guard self.controlProtected else {
                return .reply(FTPReply(503, "PBSZ not allowed on an insecure control connection."))
            }
            guard !size.isEmpty, size.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                return .reply(FTPReply(501, "PBSZ takes a number (0 for TLS)."))
            }
            // RFC 4217 §8: TLS needs no buffer size; the server answers with the only value it uses.
            self.protectionBufferSizeSet = true
            return .reply(FTPReply(200, "PBSZ=0"))
        case .protectionLevel(let level):
            return self.protectionLevelReceived(level)
        case .clearCommandChannel:
            guard self.controlProtected else {
                return .reply(FTPReply(533, "CCC: the control connection is not protected."))
            }
            return .reply(FTPReply(534, "CCC refused: the control connection stays protected."))
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

    /// AUTH TLS (and its old names). - SeeAlso: RFC 4217 §4
    private mutating func authReceived(_ mechanism: String) -> Action {
        guard self.tlsPolicy.offered else {
            return .refuseAuth(FTPReply(502, "TLS is not available on this server (no certificate configured)."))
        }
        // SSL and TLS-C are old names for TLS; TLS-P (an early draft's) also protects the data connections.
        guard ["TLS", "TLS-C", "SSL", "TLS-P"].contains(mechanism) else {
            return .refuseAuth(FTPReply(504, "AUTH \(mechanism.prefix(16)) is not supported: use AUTH TLS."))
        }
        guard !self.controlProtected else {
            return .refuseAuth(FTPReply(503, "Already using TLS."))
        }
        if case .loggedIn = self.login {
            return .refuseAuth(FTPReply(503, "AUTH TLS must come before login."))
        }
        // A USER given in clear does not carry over into the protected session.
        self.login = .awaitingUser
        self.controlProtected = true
        if mechanism == "TLS-P" {
            self.protectionBufferSizeSet = true
            self.dataProtection = .private
        }
        return .startTLS(FTPReply(234, "AUTH \(mechanism) successful."))
    }

    /// PROT. - SeeAlso: RFC 4217 §9
    private mutating func protectionLevelReceived(_ level: String) -> Action {
        guard self.controlProtected else {
            return .reply(FTPReply(503, "PROT not allowed on an insecure control connection."))
        }
        guard self.protectionBufferSizeSet else {
            return .reply(FTPReply(503, "You must issue the PBSZ command prior to PROT."))
        }
        switch level {
        case "C":
            if self.tlsPolicy.requiredOnData {
                return .reply(
                    FTPReply(534, "PROT C refused: this server requires protected data connections (PROT P).")
                )
            }
            self.dataProtection = .clear
            return .reply(FTPReply(200, "Protection set to Clear."))
        case "P":
            self.dataProtection = .private
            return .reply(FTPReply(200, "Protection set to Private."))
        case "S", "E":
            return .reply(FTPReply(536, "PROT \(level) is not supported by TLS: use C or P."))
        default:
            return .reply(FTPReply(504, "Unknown PROT level: use C or P."))
        }
    }

    /// The refusal a transfer gets on a clear data connection when the policy wants them protected, or nil.
    /// - SeeAlso: RFC 4217 §9 (521)
    package var dataProtectionRefusal: FTPReply? {
        guard self.tlsPolicy.requiredOnData, self.dataProtection == .clear else { return nil }
        return FTPReply(521, "Data connections must be protected: send PBSZ 0 and PROT P first.")
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
