/// One FTP command, parsed from a control line once, with typed arguments.
///
/// Paths are kept exactly as the client sent them (RFC 959 pathnames may contain spaces); resolving them against the
/// working directory is ``FTPPath``'s job.
public enum FTPCommand: Hashable, Sendable {
    // MARK: Access control (RFC 959 §4.1.1)

    /// `USER name`. - SeeAlso: RFC 959 §4.1.1
    case user(String)
    /// `PASS password`. Its description never shows the password. - SeeAlso: RFC 959 §4.1.1
    case pass(String)
    /// `ACCT`: not needed by this server. - SeeAlso: RFC 959 §4.1.1
    case account(String)
    /// `CWD path` / `XCWD path`. - SeeAlso: RFC 959 §4.1.1, RFC 775
    case changeDirectory(String)
    /// `CDUP` / `XCUP`. - SeeAlso: RFC 959 §4.1.1, RFC 775
    case changeToParentDirectory
    /// `REIN`: back to the state right after connecting. - SeeAlso: RFC 959 §4.1.1
    case reinitialize
    /// `QUIT`. - SeeAlso: RFC 959 §4.1.1
    case quit

    // MARK: Transfer parameters (RFC 959 §4.1.2, RFC 2428)

    /// `PORT h1,h2,h3,h4,p1,p2`. - SeeAlso: RFC 959 §4.1.2
    case port(HostPort)
    /// `PASV`. - SeeAlso: RFC 959 §4.1.2
    case passive
    /// `EPRT |proto|address|port|`. - SeeAlso: RFC 2428 §2
    case extendedPort(HostPort)
    /// `EPSV`, `EPSV 1|2`, `EPSV ALL`. - SeeAlso: RFC 2428 §3
    case extendedPassive(ExtendedPassiveArgument)
    /// `TYPE A|A N|I|L 8`. - SeeAlso: RFC 959 §4.1.2
    case type(TransferType)
    /// `STRU code`: only `F` is supported. - SeeAlso: RFC 959 §4.1.2
    case structure(String)
    /// `MODE code`: only `S` is supported. - SeeAlso: RFC 959 §4.1.2
    case mode(String)

    // MARK: Service (RFC 959 §4.1.3, RFC 3659)

    /// `RETR path`. - SeeAlso: RFC 959 §4.1.3
    case retrieve(String)
    /// `STOR path`. - SeeAlso: RFC 959 §4.1.3
    case store(String)
    /// `STOU [path]`: store under a unique name. - SeeAlso: RFC 959 §4.1.3, RFC 1123 §4.1.2.9
    case storeUnique(String?)
    /// `APPE path`. - SeeAlso: RFC 959 §4.1.3
    case append(String)
    /// `ALLO n`: nothing to allocate here. - SeeAlso: RFC 959 §4.1.3
    case allocate
    /// `REST offset` (stream mode). - SeeAlso: RFC 3659 §5
    case restart(offset: Int64)
    /// `RNFR path`. - SeeAlso: RFC 959 §4.1.3
    case renameFrom(String)
    /// `RNTO path`. - SeeAlso: RFC 959 §4.1.3
    case renameTo(String)
    /// `ABOR`. - SeeAlso: RFC 959 §4.1.3
    case abort
    /// `DELE path`. - SeeAlso: RFC 959 §4.1.3
    case delete(String)
    /// `RMD path` / `XRMD path`. - SeeAlso: RFC 959 §4.1.3
    case removeDirectory(String)
    /// `MKD path` / `XMKD path`. - SeeAlso: RFC 959 §4.1.3
    case makeDirectory(String)
    /// `PWD` / `XPWD`. - SeeAlso: RFC 959 §4.1.3
    case printDirectory
    /// `LIST [options] [path]`. - SeeAlso: RFC 959 §4.1.3
    case list(String?)
    /// `NLST [options] [path]`. - SeeAlso: RFC 959 §4.1.3
    case nameList(String?)
    /// `SITE subcommand`. - SeeAlso: RFC 959 §4.1.3
    case site(SiteCommand)
    /// `SYST`. - SeeAlso: RFC 959 §4.1.3
    case system
    /// `STAT [path]`. - SeeAlso: RFC 959 §4.1.3
    case status(String?)
    /// `HELP [command]`. - SeeAlso: RFC 959 §4.1.3
    case help(String?)
    /// `NOOP`. - SeeAlso: RFC 959 §4.1.3
    case noop
    /// `FEAT`. - SeeAlso: RFC 2389 §3
    case features
    /// `OPTS command [options]`. - SeeAlso: RFC 2389 §4
    case options(command: String, arguments: String?)
    /// `SIZE path`. - SeeAlso: RFC 3659 §4
    case size(String)
    /// `MDTM path`. - SeeAlso: RFC 3659 §3
    case modificationTime(String)
    /// `MFMT YYYYMMDDHHMMSS path`: set the modification time (seconds since the epoch, UTC).
    /// - SeeAlso: draft-somers-ftp-mfxx
    case setModificationTime(seconds: Int64, path: String)
    /// `MLST [path]`. - SeeAlso: RFC 3659 §7
    case machineListSingle(String?)
    /// `MLSD [path]`. - SeeAlso: RFC 3659 §7
    case machineListDirectory(String?)

    // MARK: Security (RFC 2228, RFC 4217)

    /// `AUTH mechanism`. - SeeAlso: RFC 2228 §3, RFC 4217 §4
    case authenticate(String)
    /// `PBSZ size`. - SeeAlso: RFC 2228 §3, RFC 4217 §8
    case protectionBufferSize(String)
    /// `PROT level`. - SeeAlso: RFC 2228 §3, RFC 4217 §9
    case protectionLevel(String)
    /// `CCC`. - SeeAlso: RFC 2228 §3, RFC 4217 §6
    case clearCommandChannel
}

/// `TYPE` argument.
public enum TransferType: Hashable, Sendable {
    /// `A` / `A N`: line endings converted to CRLF on the wire.
    case ascii
    /// `I` / `L 8`: bytes as they are.
    case binary
}

/// `EPSV` argument. - SeeAlso: RFC 2428 §3
public enum ExtendedPassiveArgument: Hashable, Sendable {
    /// No argument: the same protocol as the control connection.
    case none
    /// A network protocol number (1 = IPv4, 2 = IPv6).
    case networkProtocol(Int)
    /// `EPSV ALL`: from now on only EPSV is accepted for data connections.
    case all
}

/// `SITE` subcommands.
public enum SiteCommand: Hashable, Sendable {
    /// `SITE CHMOD mode path` (octal mode).
    case chmod(mode: UInt32, path: String)
    /// `SITE HELP`.
    case help
    /// Anything else (reported as not understood).
    case unknown(String)
}

/// A host and port from PORT/EPRT (or for PASV/EPSV replies). The host is a textual IPv4 or IPv6 address.
public struct HostPort: Hashable, Sendable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

extension FTPCommand: CustomStringConvertible {
    /// The command as a log line: never shows a password.
    public var description: String {
        switch self {
        case .pass: "PASS <redacted>"
        default: String(describing: self.verb) + (self.loggableArgument.map { " " + $0 } ?? "")
        }
    }
}
