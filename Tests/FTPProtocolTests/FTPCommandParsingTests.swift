import FTPProtocol
import Testing

@Suite("FTPCommand parsing")
struct FTPCommandParsingTests {
    @Test(arguments: [
        ("USER alice", FTPCommand.user("alice")),
        ("user alice", .user("alice")),
        ("PASS secret word", .pass("secret word")),
        ("PASS", .pass("")),
        ("CWD /a dir/with spaces ", .changeDirectory("/a dir/with spaces ")),
        ("XCWD x", .changeDirectory("x")),
        ("CDUP", .changeToParentDirectory),
        ("XCUP", .changeToParentDirectory),
        ("PWD", .printDirectory),
        ("XPWD", .printDirectory),
        ("MKD new", .makeDirectory("new")),
        ("XMKD new", .makeDirectory("new")),
        ("RMD old", .removeDirectory("old")),
        ("XRMD old", .removeDirectory("old")),
        ("TYPE A", .type(.ascii)),
        ("TYPE A N", .type(.ascii)),
        ("TYPE I", .type(.binary)),
        ("type l 8", .type(.binary)),
        ("PORT 127,0,0,1,4,1", .port(HostPort(host: "127.0.0.1", port: 1025))),
        ("EPRT |1|132.235.1.2|6275|", .extendedPort(HostPort(host: "132.235.1.2", port: 6275))),
        ("EPRT |2|::1|2121|", .extendedPort(HostPort(host: "::1", port: 2121))),
        ("EPSV", .extendedPassive(.none)),
        ("EPSV ALL", .extendedPassive(.all)),
        ("EPSV 2", .extendedPassive(.networkProtocol(2))),
        ("PASV", .passive),
        ("REST 100", .restart(offset: 100)),
        ("RETR f", .retrieve("f")),
        ("STOR f", .store("f")),
        ("STOU", .storeUnique(nil)),
        ("APPE f", .append("f")),
        ("ALLO 100", .allocate),
        ("RNFR a", .renameFrom("a")),
        ("RNTO b", .renameTo("b")),
        ("ABOR", .abort),
        ("DELE f", .delete("f")),
        ("LIST", .list(nil)),
        ("LIST -la", .list(nil)),
        ("LIST -a sub dir", .list("sub dir")),
        ("LIST -- x", .list("x")),
        ("NLST /x", .nameList("/x")),
        ("SITE CHMOD 755 file name", .site(.chmod(mode: 0o755, path: "file name"))),
        ("SITE HELP", .site(.help)),
        ("SITE FOO", .site(.unknown("FOO"))),
        ("SYST", .system),
        ("STAT", .status(nil)),
        ("STAT /", .status("/")),
        ("HELP", .help(nil)),
        ("HELP retr", .help("RETR")),
        ("NOOP", .noop),
        ("FEAT", .features),
        ("OPTS UTF8 ON", .options(command: "UTF8", arguments: "ON")),
        ("OPTS MLST type;size;", .options(command: "MLST", arguments: "type;size;")),
        ("SIZE f", .size("f")),
        ("MDTM f", .modificationTime("f")),
        ("MFMT 20201231235959 my file", .setModificationTime(seconds: 1_609_459_199, path: "my file")),
        ("MLST", .machineListSingle(nil)),
        ("MLSD dir", .machineListDirectory("dir")),
        ("AUTH tls", .authenticate("TLS")),
        ("PBSZ 0", .protectionBufferSize("0")),
        ("PROT p", .protectionLevel("P")),
        ("CCC", .clearCommandChannel),
        ("REIN", .reinitialize),
        ("QUIT", .quit),
        ("RETR ünïcödé 名前", .retrieve("ünïcödé 名前")),
    ])
    func parses(line: String, expected: FTPCommand) throws {
        #expect(try FTPCommand.parse(line) == expected)
    }

    @Test(arguments: [
        ("FOO bar", FTPParseError.Kind.unknownCommand),
        ("", .unknownCommand),
        ("USER", .badArguments),
        ("RETR", .badArguments),
        ("REST -1", .badArguments),
        ("REST abc", .badArguments),
        ("REST 99999999999999999999999", .badArguments),
        ("PORT 1,2,3,4,5", .badArguments),
        ("PORT 1,2,3,256,5,6", .badArguments),
        ("PORT a,b,c,d,e,f", .badArguments),
        ("EPRT |3|1.2.3.4|5|", .badArguments),
        ("EPRT |1|::1|5|", .badArguments),
        ("EPRT |1|1.2.3.4|0|", .badArguments),
        ("EPRT |1|1.2.3.4|70000|", .badArguments),
        ("EPRT 1|1.2.3.4|5|", .badArguments),
        ("EPSV x", .badArguments),
        ("TYPE X", .badArguments),
        ("TYPE E", .parameterNotImplemented),
        ("TYPE L 7", .parameterNotImplemented),
        ("SITE CHMOD 999 f", .badArguments),
        ("SITE CHMOD 755", .badArguments),
        ("MFMT 2020 f", .badArguments),
        ("MFMT 20201332000000 f", .badArguments),
        ("MFMT 20200101000000", .badArguments),
        ("SMNT /", .notImplemented),
        ("LPRT 1", .notImplemented),
    ])
    func refuses(line: String, kind: FTPParseError.Kind) {
        #expect(throws: FTPParseError.self) { try FTPCommand.parse(line) }
        do {
            _ = try FTPCommand.parse(line)
        } catch {
            #expect(error.kind == kind)
        }
    }

    @Test func verbIsSanitizedForReplies() {
        do {
            _ = try FTPCommand.parse("\u{1B}[31mEVIL\u{7}LONGVERBLONGVERBLONGVERB x")
            Issue.record("an unknown verb parsed")
        } catch {
            #expect(error.verb.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != "\u{1B}" })
            #expect(error.verb.count <= 16)
        }
    }

    @Test func passwordNeverPrinted() throws {
        let command = try FTPCommand.parse("PASS hunter2")
        #expect(!"\(command)".contains("hunter2"))
        #expect(!String(reflecting: command.loggableArgument).contains("hunter2"))
    }

    @Test func aliasesReportCanonicalVerb() throws {
        #expect(try FTPCommand.parse("XMKD a").verb == "MKD")
        #expect(try FTPCommand.parse("XCUP").verb == "CDUP")
    }

    @Test func loginGate() throws {
        #expect(try FTPCommand.parse("FEAT").isAllowedBeforeLogin)
        #expect(try FTPCommand.parse("AUTH TLS").isAllowedBeforeLogin)
        #expect(try !FTPCommand.parse("LIST").isAllowedBeforeLogin)
        #expect(try !FTPCommand.parse("CWD /").isAllowedBeforeLogin)
    }
}
