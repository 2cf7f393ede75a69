extension FTPCommand {
    /// The canonical verb of this command (aliases such as `XCWD` report `CWD`).
    public var verb: String {
        switch self {
        case .user: "USER"
        case .pass: "PASS"
        case .account: "ACCT"
        case .changeDirectory: "CWD"
        case .changeToParentDirectory: "CDUP"
        case .reinitialize: "REIN"
        case .quit: "QUIT"
        case .port: "PORT"
        case .passive: "PASV"
        case .extendedPort: "EPRT"
        case .extendedPassive: "EPSV"
        case .type: "TYPE"
        case .structure: "STRU"
        case .mode: "MODE"
        case .retrieve: "RETR"
        case .store: "STOR"
        case .storeUnique: "STOU"
        case .append: "APPE"
        case .allocate: "ALLO"
        case .restart: "REST"
        case .renameFrom: "RNFR"
        case .renameTo: "RNTO"
        case .abort: "ABOR"
        case .delete: "DELE"
        case .removeDirectory: "RMD"
        case .makeDirectory: "MKD"
        case .printDirectory: "PWD"
        case .list: "LIST"
        case .nameList: "NLST"
        case .site: "SITE"
        case .system: "SYST"
        case .status: "STAT"
        case .help: "HELP"
        case .noop: "NOOP"
        case .features: "FEAT"
        case .options: "OPTS"
        case .size: "SIZE"
        case .modificationTime: "MDTM"
        case .setModificationTime: "MFMT"
        case .machineListSingle: "MLST"
        case .machineListDirectory: "MLSD"
        case .authenticate: "AUTH"
        case .protectionBufferSize: "PBSZ"
        case .protectionLevel: "PROT"
        case .clearCommandChannel: "CCC"
        }
    }

    /// The argument as it may appear in a log line (never a password).
    public var loggableArgument: String? {
        switch self {
        case .pass, .account: "<redacted>"
        case .user(let name): name
        case .changeDirectory(let path), .retrieve(let path), .store(let path), .append(let path),
            .renameFrom(let path), .renameTo(let path), .delete(let path), .removeDirectory(let path),
            .makeDirectory(let path), .size(let path), .modificationTime(let path), .authenticate(let path),
            .protectionBufferSize(let path), .protectionLevel(let path), .structure(let path), .mode(let path):
            path
        case .storeUnique(let path), .list(let path), .nameList(let path), .status(let path), .help(let path),
            .machineListSingle(let path), .machineListDirectory(let path):
            path
        case .port(let hostPort), .extendedPort(let hostPort): "\(hostPort.host) \(hostPort.port)"
        case .restart(let offset): String(offset)
        case .setModificationTime(let seconds, let path): "\(seconds) \(path)"
        case .options(let command, let arguments): command + (arguments.map { " " + $0 } ?? "")
        case .type(let type): type == .ascii ? "A" : "I"
        case .site(let site):
            switch site {
            case .chmod(let mode, let path): "CHMOD \(String(mode, radix: 8)) \(path)"
            case .help: "HELP"
            case .unknown(let word): word
            }
        case .extendedPassive(let argument):
            switch argument {
            case .none: nil
            case .all: "ALL"
            case .networkProtocol(let number): String(number)
            }
        case .changeToParentDirectory, .reinitialize, .quit, .passive, .allocate, .abort, .printDirectory, .system,
            .noop, .features, .clearCommandChannel:
            nil
        }
    }

    /// Commands a client may send before logging in.
    public var isAllowedBeforeLogin: Bool {
        switch self {
        case .user, .pass, .quit, .features, .help, .noop, .authenticate, .protectionBufferSize, .protectionLevel,
            .options, .system, .reinitialize, .clearCommandChannel:
            true
        default:
            false
        }
    }

    /// Every verb this server implements, for HELP.
    public static let implementedVerbs: [String] = [
        "ABOR", "ALLO", "APPE", "AUTH", "CCC", "CDUP", "CWD", "DELE", "EPRT", "EPSV", "FEAT", "HELP", "LIST", "MDTM",
        "MFMT", "MKD", "MLSD", "MLST", "MODE", "NLST", "NOOP", "OPTS", "PASS", "PASV", "PBSZ", "PORT", "PROT", "PWD",
        "QUIT", "REIN", "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "STAT", "STOR", "STOU", "STRU", "SYST",
        "TYPE", "USER", "XCUP", "XCWD", "XMKD", "XPWD", "XRMD",
    ]

    /// One line of syntax help per verb, for `HELP verb`.
    public static func syntaxHelp(for verb: String) -> String? {
        let table: [String: String] = [
            "ABOR": "ABOR (abort transfer)", "ALLO": "ALLO <SP> bytes (obsolete; allocate storage)",
            "APPE": "APPE <SP> file-name (append data to file)",
            "AUTH": "AUTH <SP> TLS (secure the control connection)",
            "CCC": "CCC (clear the control connection)",
            "CDUP": "CDUP (go to parent directory)", "CWD": "CWD [<SP> dir-name] (change working directory)",
            "DELE": "DELE <SP> file-name (delete file)", "EPRT": "EPRT <SP> |proto|addr|port| (extended active mode)",
            "EPSV": "EPSV [<SP> proto/\"ALL\"] (extended passive mode)", "FEAT": "FEAT (list extended features)",
            "HELP": "HELP [<SP> cmd] (show help)", "LIST": "LIST [<SP> path] (list files)",
            "MDTM": "MDTM [<SP> path] (file last modification time)",
            "MFMT": "MFMT <SP> YYYYMMDDHHMMSS <SP> path (set file modification time)",
            "MKD": "MKD <SP> path (create directory)", "MLSD": "MLSD [<SP> path] (list directory, machine format)",
            "MLST": "MLST [<SP> path] (show facts of one path)", "MODE": "MODE <SP> S (transfer mode)",
            "NLST": "NLST [<SP> path] (list names)", "NOOP": "NOOP (no operation)",
            "OPTS": "OPTS <SP> cmd [<SP> option] (set command options)", "PASS": "PASS [<SP> password] (log in)",
            "PASV": "PASV (passive mode)", "PBSZ": "PBSZ <SP> 0 (protection buffer size)",
            "PORT": "PORT <SP> h,h,h,h,p,p (active mode)", "PROT": "PROT <SP> C|P (data channel protection)",
            "PWD": "PWD (print working directory)", "QUIT": "QUIT (close session)", "REIN": "REIN (flush account)",
            "REST": "REST <SP> offset (restart transfer)", "RETR": "RETR <SP> file-name (retrieve a file)",
            "RMD": "RMD <SP> dir-name (remove directory)", "RNFR": "RNFR <SP> file-name (rename from)",
            "RNTO": "RNTO <SP> file-name (rename to)", "SITE": "SITE <SP> CHMOD|HELP (site commands)",
            "SIZE": "SIZE <SP> file-name (file size)", "STAT": "STAT [<SP> path] (status or listing)",
            "STOR": "STOR <SP> file-name (store a file)", "STOU": "STOU [<SP> name] (store under a unique name)",
            "STRU": "STRU <SP> F (file structure)", "SYST": "SYST (system type)",
            "TYPE": "TYPE <SP> A|I (transfer type)", "USER": "USER <SP> user-name (log in)",
            "XCUP": "XCUP (obsolete: CDUP)", "XCWD": "XCWD <SP> dir-name (obsolete: CWD)",
            "XMKD": "XMKD <SP> dir-name (obsolete: MKD)", "XPWD": "XPWD (obsolete: PWD)",
            "XRMD": "XRMD <SP> dir-name (obsolete: RMD)",
        ]
        return table[verb.uppercased()]
    }
}
