import FTPServer
import Foundation
import Testing
import VirtualFS

@Suite struct CredentialsFileTests {
    static let digest = "827ccb0eea8a706c4c34a16891f84e7b"

    // MARK: - Good files

    @Test(arguments: [
        (
            "alice;\(digest);/alice;elradfmwMT;Welcome Alice!;Bye Alice",
            CredentialsEntry(
                user: "alice",
                secret: digest,
                home: "/alice",
                permissions: .all,
                loginMessage: "Welcome Alice!",
                logoutMessage: "Bye Alice"
            )
        ),
        (
            "guest;\(digest);/public;elr",
            CredentialsEntry(user: "guest", secret: digest, home: "/public", permissions: .readOnly)
        ),
        (
            "guest;\(digest);/;elr;Hello",
            CredentialsEntry(user: "guest", secret: digest, home: "/", permissions: .readOnly, loginMessage: "Hello")
        ),
        (
            "guest;\(digest);/;elr;;Bye",
            CredentialsEntry(user: "guest", secret: digest, home: "/", permissions: .readOnly, logoutMessage: "Bye")
        ),
        (
            "guest;\(digest);/;;",
            CredentialsEntry(user: "guest", secret: digest, home: "/", permissions: [])
        ),
        (
            "  bob ;  \(digest)\t; data/bob/ ; rle ;  Hi  there, bob  ; See you ",
            CredentialsEntry(
                user: "bob",
                secret: digest,
                home: "/data/bob",
                permissions: .readOnly,
                loginMessage: "Hi  there, bob",
                logoutMessage: "See you"
            )
        ),
        (
            "zoë;secret;/zoë;w;Grüß dich\tZoë",
            CredentialsEntry(
                user: "zoë",
                secret: "secret",
                home: "/zoë",
                permissions: .store,
                loginMessage: "Grüß dich\tZoë"
            )
        ),
    ])
    func parsesOneLine(line: String, expected: CredentialsEntry) throws {
        #expect(try CredentialsFile.parse(line) == [expected])
        #expect(try CredentialsFile.parse(line + "\n") == [expected])
    }

    @Test(arguments: [
        ("comments and blank lines", "# users\n\n   # indented comment\nalice;x;/a;elr\n\n  \t \nbob;y;/b;elr\n"),
        ("CRLF", "# users\r\nalice;x;/a;elr\r\n\r\nbob;y;/b;elr\r\n"),
        ("BOM", "\u{FEFF}alice;x;/a;elr\nbob;y;/b;elr"),
        ("BOM before a comment, CRLF", "\u{FEFF}# users\r\nalice;x;/a;elr\r\nbob;y;/b;elr"),
        ("no final newline", "alice;x;/a;elr\nbob;y;/b;elr"),
    ])
    func parsesWholeFiles(_ name: String, contents: String) throws {
        let entries = try CredentialsFile.parse(contents)
        #expect(
            entries == [
                CredentialsEntry(user: "alice", secret: "x", home: "/a", permissions: .readOnly),
                CredentialsEntry(user: "bob", secret: "y", home: "/b", permissions: .readOnly),
            ]
        )
    }

    @Test func emptyFileHasNoUsers() throws {
        #expect(try CredentialsFile.parse("").isEmpty)
        #expect(try CredentialsFile.parse("\u{FEFF}# nobody yet\r\n\r\n").isEmpty)
    }

    @Test(arguments: [
        ("/", "/"), ("alice", "/alice"), ("/alice", "/alice"), ("/alice/", "/alice"), ("//data//bob//", "/data/bob"),
        ("/./alice/.", "/alice"), (".", "/"), ("///", "/"), ("a b/c", "/a b/c"),
    ])
    func normalizesHomes(home: String, expected: String) throws {
        #expect(CredentialsFile.normalizedHome(home) == expected)
        #expect(try CredentialsFile.parse("alice;x;\(home);elr").first?.home == expected)
    }

    @Test(arguments: ["", "..", "/..", "/alice/../bob", "alice/..", "/a\u{0}b"])
    func refusesBadHomes(home: String) {
        #expect(CredentialsFile.normalizedHome(home) == nil)
    }

    @Test(arguments: [digest, digest.uppercased(), "0123456789abcdefABCDEF0123456789"])
    func acceptsMD5Digests(secret: String) throws {
        let entries = try CredentialsFile.parse("alice;\(secret);/;elr", secrets: .md5Digest)
        #expect(entries.first?.secret == secret)
    }

    // MARK: - Errors

    @Test(arguments: [
        ("alice;x;/", 1, "expected at least 4 fields (user;md5-of-password;home;permissions), found 3"),
        ("alice", 1, "expected at least 4 fields (user;md5-of-password;home;permissions), found 1"),
        ("# c\n\nalice;x;/;elr;in;out;extra", 3, "expected at most 6 fields (a message cannot contain ';'), found 7"),
        ("alice;x;/;elr;Hello; world;Bye", 1, "expected at most 6 fields (a message cannot contain ';'), found 7"),
        (";x;/;elr", 1, "empty user name"),
        ("  ;x;/;elr", 1, "empty user name"),
        ("al ice;x;/;elr", 1, "user name 'al ice' contains whitespace or control characters"),
        ("al\u{7}ice;x;/;elr", 1, "user name 'al\\u{7}ice' contains whitespace or control characters"),
        ("al\u{A0}ice;x;/;elr", 1, "user name 'al\\u{a0}ice' contains whitespace or control characters"),
        ("alice;x;/;elr\nbob;x;/;elr\nalice;y;/b;elr", 3, "duplicate user 'alice' (first defined on line 1)"),
        ("alice;;/;elr", 1, "empty password of user 'alice'"),
        ("alice;x;;elr", 1, "empty home of user 'alice'"),
        (
            "alice;x;/a/../b;elr", 1,
            "home '/a/../b' of user 'alice' is not a valid path (no '..' components, no control characters)"
        ),
        ("a;x;/;elr\r\nb;x;/;elr\r\n\r\nalice;x;/;elx", 4, "unknown permission letter 'x' (allowed: elradfmwMT)"),
        ("alice;x;/;elr;Hello\rworld", 1, "login message contains control characters"),
        ("alice;x;/;elr;Hello;Bye\u{0}", 1, "logout message contains control characters"),
    ])
    func reportsErrors(contents: String, line: Int, message: String) {
        #expect(throws: CredentialsError(source: "credentials.txt", line: line, message: message)) {
            try CredentialsFile.parse(contents)
        }
    }

    @Test(arguments: [
        "12345",
        "827ccb0eea8a706c4c34a16891f84e7",
        "827ccb0eea8a706c4c34a16891f84e7b0",
        "827ccb0eea8a706c4c34a16891f84e7g",
        "827ccb0eea8a706c 4c34a16891f84e7b",
    ])
    func refusesSecretsThatAreNotMD5Digests(secret: String) {
        let error = #expect(throws: CredentialsError.self) {
            try CredentialsFile.parse("# md5\nalice;\(secret);/;elr", source: "users.txt", secrets: .md5Digest)
        }
        #expect(
            error?.description == "users.txt:2: password field of user 'alice' is not an MD5 digest (32 hex digits)"
        )
    }

    @Test func errorDescriptionNamesFileAndLine() {
        let error = #expect(throws: CredentialsError.self) {
            try CredentialsFile.parse("a;x;/;elr\nb;x;/;elr\nc;x;/;elrx")
        }
        #expect(error?.description == "credentials.txt:3: unknown permission letter 'x' (allowed: elradfmwMT)")
        #expect(CredentialsError(source: "/etc/f.txt", message: "gone").description == "/etc/f.txt: gone")
    }

    @Test func errorsNeverQuoteTheSecret() {
        for contents in ["alice;hunter2;/;elr;x;y;z", "alice;hunter2;/;elr\nalice;hunter2;/;elr", "alice;hunter2;/;q"] {
            let error = #expect(throws: CredentialsError.self) {
                try CredentialsFile.parse(contents, secrets: .md5Digest)
            }
            #expect(error.map { !$0.description.contains("hunter2") } == true)
        }
    }

    // MARK: - Files on disk

    @Test func loadsAFile() throws {
        let file = try UsersTemporaryFile(contents: "alice;x;/alice;elr\n")
        defer { file.remove() }
        #expect(
            try CredentialsFile.load(path: file.path)
                == [CredentialsEntry(user: "alice", secret: "x", home: "/alice", permissions: .readOnly)]
        )
    }

    @Test func errorsOfALoadedFileNameItsPath() throws {
        let file = try UsersTemporaryFile(contents: "alice;x;/alice;elr\nbob;x;/;elrz\n")
        defer { file.remove() }
        #expect(
            throws: CredentialsError(
                source: file.path,
                line: 2,
                message: "unknown permission letter 'z' (allowed: elradfmwMT)"
            )
        ) {
            try CredentialsFile.load(path: file.path)
        }
    }

    @Test func missingFileIsAClearError() {
        let path = "/nonexistent-\(Self.digest)/credentials.txt"
        #expect(throws: CredentialsError(source: path, line: nil, message: "credentials file not found")) {
            try CredentialsFile.load(path: path)
        }
    }

    @Test func directoryIsAClearError() throws {
        let file = try UsersTemporaryFile(contents: "")
        defer { file.remove() }
        let path = file.directory.path
        #expect(throws: CredentialsError(source: path, message: "is a directory, not a credentials file")) {
            try CredentialsFile.load(path: path)
        }
    }

    @Test func nonUTF8FileIsAClearError() throws {
        let file = try UsersTemporaryFile(contents: "")
        defer { file.remove() }
        try Data([0x61, 0xFF, 0xFE, 0x3B]).write(to: URL(fileURLWithPath: file.path))
        #expect(throws: CredentialsError(source: file.path, message: "credentials file is not UTF-8 text")) {
            try CredentialsFile.load(path: file.path)
        }
    }

    // MARK: - Homes in the served storage

    static let storage = UsersTestFileSystem(
        directories: ["/", "/alice", "/data", "/data/bob"],
        files: ["/notes.txt"],
        failing: ["/flaky"]
    )

    @Test func acceptsHomesThatAreDirectories() async throws {
        let entries = try await CredentialsFile.parse(
            "root;x;/;elr\nalice;x;alice;elr\nbob;x;/data/bob/;elr\ncarol;x;/alice;elr",
            checkingHomesIn: Self.storage
        )
        #expect(entries.map(\.home) == ["/", "/alice", "/data/bob", "/alice"])
    }

    @Test(arguments: [
        (
            "root;x;/;elr\nalice;x;/alice;elr\ndave;x;/dave;elr", 3,
            "home '/dave' of user 'dave' does not exist in the served storage"
        ),
        ("n;x;notes.txt;elr", 1, "home '/notes.txt' of user 'n' is not a directory in the served storage"),
        (
            "\n\nf;x;/flaky;elr", 3,
            "home '/flaky' of user 'f' cannot be checked in the served storage: "
                + "/flaky: storage error (connection reset)"
        ),
    ])
    func refusesHomesThatAreNotDirectories(contents: String, line: Int, message: String) async {
        await #expect(throws: CredentialsError(source: "credentials.txt", line: line, message: message)) {
            try await CredentialsFile.parse(contents, checkingHomesIn: Self.storage)
        }
    }

    @Test func syntaxErrorsComeBeforeHomeChecks() async {
        await #expect(throws: CredentialsError(source: "credentials.txt", line: 2, message: "empty user name")) {
            try await CredentialsFile.parse("dave;x;/dave;elr\n;x;/;elr", checkingHomesIn: Self.storage)
        }
    }
}
