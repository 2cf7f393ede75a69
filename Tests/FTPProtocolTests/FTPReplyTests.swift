import FTPProtocol
import NIOCore
import Testing

@Suite("FTPReply encoding")
struct FTPReplyTests {
    @Test func singleLine() {
        #expect(String(buffer: FTPReply(200, "OK.").encoded) == "200 OK.\r\n")
    }

    /// RFC 959 §4.2: `123-First line`, middle lines, `123 Last line`. Middle lines are indented so that none can be
    /// read as the end of the reply (RFC 2389 §3.2 requires the indentation for FEAT).
    @Test func multiLine() {
        let reply = FTPReply(211, lines: ["Features:", "MDTM", "211 not the end", "End"])
        #expect(String(buffer: reply.encoded) == "211-Features:\r\n MDTM\r\n 211 not the end\r\n211 End\r\n")
    }

    @Test func controlCharactersCannotInjectReplies() {
        let reply = FTPReply(550, "\"evil\r\n230 Login successful.\": No such file.")
        let text = String(buffer: reply.encoded)
        #expect(text == "550 \"evil  230 Login successful.\": No such file.\r\n")
        #expect(text.utf8.filter { $0 == 10 }.count == 1)
    }

    @Test func quotedPathsDoubleQuotes() {
        #expect(FTPReply.quoted("/a \"b\"") == "\"/a \"\"b\"\"\"")
    }

    @Test(arguments: [
        (FTPParseError(.unknownCommand, verb: "FOO", message: ""), 500),
        (FTPParseError(.badArguments, verb: "RETR", message: "x"), 501),
        (FTPParseError(.notImplemented, verb: "SMNT", message: ""), 502),
        (FTPParseError(.parameterNotImplemented, verb: "TYPE", message: ""), 504),
    ])
    func parseErrorCodes(error: FTPParseError, code: Int) {
        #expect(FTPReply(parseError: error).code == code)
    }
}

@Suite("Address codecs")
struct HostPortTests {
    @Test func passiveReply() {
        #expect(HostPort(host: "192.168.1.2", port: 60200).passiveReplyArgument == "192,168,1,2,235,40")
        #expect(HostPort(host: "::1", port: 60200).passiveReplyArgument == nil)
    }

    @Test(arguments: ["::1", "::", "2001:db8::1", "fe80::1%eth0", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8"])
    func validIPv6(_ text: String) {
        #expect(IPAddressText.isIPv6(text))
    }

    @Test(arguments: ["1.2.3.4", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", ":", "fe80::1%"])
    func invalidIPv6(_ text: String) {
        #expect(!IPAddressText.isIPv6(text))
    }

    @Test(arguments: [
        ("1.2.3.4", true), ("255.255.255.255", true), ("256.1.1.1", false), ("1.2.3", false), ("a.b.c.d", false),
    ])
    func ipv4(_ text: String, valid: Bool) {
        #expect(IPAddressText.isIPv4(text) == valid)
    }
}

@Suite("Path resolution and the jail")
struct FTPPathTests {
    @Test(arguments: [
        ("/", "/", "/"),
        ("a", "/", "/a"),
        ("a/b/", "/", "/a/b"),
        ("/x//y/./z", "/a", "/x/y/z"),
        ("..", "/a/b", "/a"),
        ("../..", "/a/b", "/"),
        ("../../../../etc/passwd", "/a", "/etc/passwd"),
        ("/../../etc", "/", "/etc"),
        ("..", "/", "/"),
        (".", "/a", "/a"),
        ("sub dir/ file ", "/a", "/a/sub dir/ file "),
        ("...", "/", "/..."),
    ])
    func resolves(argument: String, cwd: String, expected: String) {
        #expect(FTPPath.resolve(argument, in: cwd) == expected)
    }

    @Test func nulRefused() {
        #expect(FTPPath.resolve("a\0b", in: "/") == nil)
    }

    @Test func parentAndName() {
        #expect(FTPPath.parent(of: "/a/b") == "/a")
        #expect(FTPPath.parent(of: "/a") == "/")
        #expect(FTPPath.parent(of: "/") == "/")
        #expect(FTPPath.name(of: "/a/b c") == "b c")
        #expect(FTPPath.name(of: "/") == "/")
        #expect(FTPPath.join("/", "x") == "/x")
        #expect(FTPPath.join("/a", "x") == "/a/x")
    }
}
