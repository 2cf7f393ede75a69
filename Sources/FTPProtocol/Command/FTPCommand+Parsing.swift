extension FTPCommand {
    /// Parses one control line (without its CRLF).
    ///
    /// The verb is case-insensitive and ends at the first space; the argument is everything after that space, kept as
    /// is (pathnames may start or end with spaces). Telnet commands are removed by the framing before this runs.
    /// - SeeAlso: RFC 959 §5.3
    public static func parse(_ line: String) throws(FTPParseError) -> FTPCommand {
        let verbEnd = line.firstIndex(of: " ") ?? line.endIndex
        let rawVerb = line[line.startIndex..<verbEnd]
        let argument: String? = verbEnd == line.endIndex ? nil : String(line[line.index(after: verbEnd)...])
        let verb = sanitizedVerb(rawVerb)
        let parser = ArgumentParser(verb: verb, argument: argument)

        switch verb {
        case "USER": return .user(try parser.required())
        case "PASS": return .pass(argument ?? "")
        case "ACCT": return .account(argument ?? "")
        case "CWD", "XCWD": return .changeDirectory(try parser.required())
        case "CDUP", "XCUP": return .changeToParentDirectory
        case "REIN": return .reinitialize
        case "QUIT": return .quit
        case "PORT": return .port(try parser.parse(HostPort.parsePortArgument))
        case "PASV": return .passive
        case "EPRT": return .extendedPort(try parser.parse(HostPort.parseExtendedPortArgument))
        case "EPSV": return .extendedPassive(try parser.extendedPassive())
        case "TYPE": return .type(try parser.transferType())
        case "STRU": return .structure(try parser.required().uppercased())
        case "MODE": return .mode(try parser.required().uppercased())
        case "RETR": return .retrieve(try parser.required())
        case "STOR": return .store(try parser.required())
        case "STOU": return .storeUnique(parser.optional())
        case "APPE": return .append(try parser.required())
        case "ALLO": return .allocate
        case "REST": return .restart(offset: try parser.offset())
        case "RNFR": return .renameFrom(try parser.required())
        case "RNTO": return .renameTo(try parser.required())
        case "ABOR": return .abort
        case "DELE": return .delete(try parser.required())
        case "RMD", "XRMD": return .removeDirectory(try parser.required())
        case "MKD", "XMKD": return .makeDirectory(try parser.required())
        case "PWD", "XPWD": return .printDirectory
        case "LIST": return .list(parser.listPath())
        case "NLST": return .nameList(parser.listPath())
        case "SITE": return .site(try parser.site())
        case "SYST": return .system
        case "STAT": return .status(parser.optional())
        case "HELP": return .help(parser.optional()?.uppercased())
        case "NOOP": return .noop
        case "FEAT": return .features
        case "OPTS": return try parser.options()
        case "SIZE": return .size(try parser.required())
        case "MDTM": return .modificationTime(try parser.required())
        case "MFMT": return try parser.setModificationTime()
        case "MLST": return .machineListSingle(parser.optional())
        case "MLSD": return .machineListDirectory(parser.optional())
        case "AUTH": return .authenticate(try parser.required().uppercased())
        case "PBSZ": return .protectionBufferSize(try parser.required())
        case "PROT": return .protectionLevel(try parser.required().uppercased())
        case "CCC": return .clearCommandChannel
        case "SMNT", "MIC", "CONF", "ENC", "ADAT", "LANG", "LPRT", "LPSV", "HOST":
            throw FTPParseError(.notImplemented, verb: verb, message: "Command not implemented.")
        default:
            throw FTPParseError(.unknownCommand, verb: verb, message: "Command not understood.")
        }
    }

    /// Upper-cases the verb and drops anything that is not printable ASCII, so it can be echoed in a reply safely.
    private static func sanitizedVerb(_ raw: Substring) -> String {
        var verb = ""
        for scalar in raw.unicodeScalars.prefix(16) where scalar.value > 0x20 && scalar.value < 0x7F {
            verb.unicodeScalars.append(scalar)
        }
        return verb.uppercased()
    }
}

/// The argument of one command, with the checks commands share.
private struct ArgumentParser {
    let verb: String
    let argument: String?

    func syntax(_ message: String) -> FTPParseError {
        FTPParseError(.badArguments, verb: self.verb, message: message)
    }

    func required() throws(FTPParseError) -> String {
        guard let argument = self.argument, !argument.isEmpty else {
            throw self.syntax("Syntax error: command needs an argument.")
        }
        return argument
    }

    func optional() -> String? {
        guard let argument = self.argument, !argument.isEmpty else { return nil }
        return argument
    }

    func parse(_ body: (String) -> HostPort?) throws(FTPParseError) -> HostPort {
        let text = try self.required()
        guard let value = body(text) else { throw self.syntax("Invalid address argument.") }
        return value
    }

    func offset() throws(FTPParseError) -> Int64 {
        let text = try self.required()
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int64(text)
        else { throw self.syntax("Invalid REST parameter: a non-negative byte offset is expected.") }
        return value
    }

    func transferType() throws(FTPParseError) -> TransferType {
        let words = try self.required().uppercased().split(separator: " ")
        switch words.joined(separator: " ") {
        case "A", "A N": return .ascii
        case "I", "L 8", "L8": return .binary
        case "A T", "A C", "E", "E N", "E T", "E C":
            throw FTPParseError(.parameterNotImplemented, verb: self.verb, message: "Unsupported type.")
        default:
            if words.first == "L" {
                throw FTPParseError(.parameterNotImplemented, verb: self.verb, message: "Unsupported byte size.")
            }
            throw self.syntax("Unknown type.")
        }
    }

    func extendedPassive() throws(FTPParseError) -> ExtendedPassiveArgument {
        guard let text = self.optional() else { return .none }
        if text.uppercased() == "ALL" { return .all }
        guard let number = Int(text) else { throw self.syntax("Invalid EPSV argument.") }
        return .networkProtocol(number)
    }

    /// LIST and NLST take `ls` options on many clients (`LIST -la`, `LIST -a dir`): drop leading option words.
    func listPath() -> String? {
        guard var rest = self.optional() else { return nil }
        while rest.hasPrefix("-") {
            let word = rest.prefix { $0 != " " }
            guard word.count > 1, word.dropFirst().allSatisfy({ $0.isLetter || $0 == "-" }) else { break }
            rest = String(rest.dropFirst(word.count).drop { $0 == " " })
        }
        return rest.isEmpty ? nil : rest
    }

    func site() throws(FTPParseError) -> SiteCommand {
        let text = try self.required()
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        switch parts.first?.uppercased() {
        case "CHMOD":
            guard parts.count == 3, let mode = UInt32(parts[1], radix: 8), mode <= 0o7777 else {
                throw self.syntax("Syntax: SITE CHMOD <octal mode> <path>.")
            }
            return .chmod(mode: mode, path: String(parts[2]))
        case "HELP":
            return .help
        default:
            return .unknown(String(parts.first.map(String.init) ?? "").uppercased())
        }
    }

    func options() throws(FTPParseError) -> FTPCommand {
        let text = try self.required()
        let space = text.firstIndex(of: " ")
        let command = String(text[..<(space ?? text.endIndex)]).uppercased()
        let rest = space.map { String(text[text.index(after: $0)...]) }
        return .options(command: command, arguments: rest?.isEmpty == true ? nil : rest)
    }

    func setModificationTime() throws(FTPParseError) -> FTPCommand {
        let text = try self.required()
        guard let space = text.firstIndex(of: " ") else { throw self.syntax("Syntax: MFMT YYYYMMDDHHMMSS path.") }
        let path = String(text[text.index(after: space)...])
        guard let seconds = FTPTimestamp.parse(String(text[..<space])), !path.isEmpty else {
            throw self.syntax("Syntax: MFMT YYYYMMDDHHMMSS path.")
        }
        return .setModificationTime(seconds: seconds, path: path)
    }
}
