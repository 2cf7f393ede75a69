import FTPServer
import Testing

@Suite struct PlainPasswordAuthorizerTests {
    static let authorizer = PlainPasswordAuthorizer(entries: [
        CredentialsEntry(
            user: "alice",
            secret: "12345",
            home: "/alice",
            permissions: .all,
            loginMessage: "Welcome Alice",
            logoutMessage: "Bye Alice"
        ),
        CredentialsEntry(user: "bob", secret: "correct horse;battery", home: "/", permissions: .readOnly),
        CredentialsEntry(user: "alice", secret: "second", home: "/", permissions: .all),
        CredentialsEntry(user: "nobody", secret: "", home: "/", permissions: .all),
    ])

    @Test func acceptsTheRightPassword() async {
        #expect(
            await Self.authorizer.authenticate(user: "alice", password: "12345")
                == User(
                    name: "alice",
                    home: "/alice",
                    permissions: .all,
                    loginMessage: "Welcome Alice",
                    logoutMessage: "Bye Alice"
                )
        )
        #expect(await Self.authorizer.authenticate(user: "bob", password: "correct horse;battery")?.name == "bob")
    }

    @Test(arguments: [
        ("alice", "wrong"),  // wrong password
        ("alice", "1234"),  // a prefix
        ("alice", "123456"),  // longer
        ("alice", " 12345"),
        ("alice", "second"),  // the duplicate entry does not count: the first one does
        ("alice", "827ccb0eea8a706c4c34a16891f84e7b"),  // the digest is not the password here
        ("mallory", "12345"),  // unknown user
        ("Alice", "12345"),
        ("", ""),
        ("nobody", ""),  // an empty password never logs in
    ])
    func refusesWrongUserOrPassword(user: String, password: String) async {
        #expect(await Self.authorizer.authenticate(user: user, password: password) == nil)
    }

    static let storage = UsersTestFileSystem(directories: ["/", "/alice"])

    @Test func buildsFromACredentialsFileWithoutCheckingForDigests() async throws {
        let file = try UsersTemporaryFile(contents: "\u{FEFF}alice;12345;/alice;elr\nroot; s3cret ;/;elradfmwMT;Hi\n")
        defer { file.remove() }
        let authorizer = try await PlainPasswordAuthorizer(fileSystem: Self.storage, credentialsFile: file.path)
        #expect(await authorizer.authenticate(user: "alice", password: "12345")?.home == "/alice")
        #expect(await authorizer.authenticate(user: "root", password: "s3cret")?.loginMessage == "Hi")
        #expect(await authorizer.authenticate(user: "root", password: " s3cret ") == nil)
    }

    @Test func refusesAHomeThatIsNotADirectory() async throws {
        let file = try UsersTemporaryFile(contents: "alice;12345;/alice;elr\nbob;x;/bob;elr\n")
        defer { file.remove() }
        let storage = UsersTestFileSystem(directories: ["/", "/alice"], files: ["/bob"])
        await #expect(
            throws: CredentialsError(
                source: file.path,
                line: 2,
                message: "home '/bob' of user 'bob' is not a directory in the served storage"
            )
        ) {
            try await PlainPasswordAuthorizer(fileSystem: storage, credentialsFile: file.path)
        }
    }
}
