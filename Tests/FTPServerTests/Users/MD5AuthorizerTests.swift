import FTPServer
import Testing

@Suite struct MD5AuthorizerTests {
    /// The MD5 digest of "12345".
    static let digest = "827ccb0eea8a706c4c34a16891f84e7b"

    static let authorizer = MD5Authorizer(entries: [
        CredentialsEntry(
            user: "alice",
            secret: digest,
            home: "/alice",
            permissions: .all,
            loginMessage: "Welcome Alice",
            logoutMessage: "Bye Alice"
        ),
        CredentialsEntry(user: "BOB", secret: digest.uppercased(), home: "/", permissions: .readOnly),
        CredentialsEntry(user: "plain", secret: "12345", home: "/", permissions: .all),
        CredentialsEntry(user: "alice", secret: MD5Authorizer.digest(of: "second"), home: "/", permissions: .all),
        CredentialsEntry(user: "empty", secret: "d41d8cd98f00b204e9800998ecf8427e", home: "/", permissions: .list),
    ])

    @Test(arguments: [
        ("12345", digest),
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("password", "5f4dcc3b5aa765d61d8327deb882cf99"),
        ("grüße", "fee40dc24d0ad6a90c608052aa4e9e66"),
    ])
    func digestIsLowerCaseHexOfUTF8(password: String, digest: String) {
        #expect(MD5Authorizer.digest(of: password) == digest)
    }

    @Test func acceptsTheRightPassword() async {
        let user = await Self.authorizer.authenticate(user: "alice", password: "12345")
        #expect(
            user
                == User(
                    name: "alice",
                    home: "/alice",
                    permissions: .all,
                    loginMessage: "Welcome Alice",
                    logoutMessage: "Bye Alice"
                )
        )
    }

    @Test func comparesDigestsCaseInsensitively() async {
        let user = await Self.authorizer.authenticate(user: "BOB", password: "12345")
        #expect(user == User(name: "BOB", home: "/", permissions: .readOnly))
    }

    @Test func acceptsAnEmptyPasswordWhenItsDigestIsStored() async {
        #expect(await Self.authorizer.authenticate(user: "empty", password: "") != nil)
    }

    @Test(arguments: [
        ("alice", "wrong"),  // wrong password
        ("alice", "1234"),
        ("alice", "123456"),
        ("alice", ""),
        ("alice", Self.digest),  // the digest itself is not the password
        ("alice", "second"),  // the duplicate entry does not count: the first one does
        ("mallory", "12345"),  // unknown user
        ("", "12345"),
        ("Alice", "12345"),  // user names are case-sensitive
        ("bob", "12345"),
        ("plain", "12345"),  // a secret that is not a digest never matches
        ("plain", ""),
    ])
    func refusesWrongUserOrPassword(user: String, password: String) async {
        #expect(await Self.authorizer.authenticate(user: user, password: password) == nil)
    }

    @Test func emptyAuthorizerRefusesEveryone() async {
        #expect(await MD5Authorizer(entries: []).authenticate(user: "alice", password: "12345") == nil)
    }

    // MARK: - From a credentials file and a file system

    static let storage = UsersTestFileSystem(directories: ["/", "/alice"])

    @Test func buildsFromACredentialsFile() async throws {
        let file = try UsersTemporaryFile(
            contents: "# users\r\nalice;\(Self.digest);alice/;elrw;Hi;Bye\r\n"
                + "root;\(Self.digest.uppercased());/;elradfmwMT\r\n"
        )
        defer { file.remove() }
        let authorizer = try await MD5Authorizer(fileSystem: Self.storage, credentialsFile: file.path)
        #expect(
            await authorizer.authenticate(user: "alice", password: "12345")
                == User(
                    name: "alice",
                    home: "/alice",
                    permissions: [.changeDirectory, .list, .retrieve, .store],
                    loginMessage: "Hi",
                    logoutMessage: "Bye"
                )
        )
        #expect(await authorizer.authenticate(user: "root", password: "12345")?.permissions == .all)
        #expect(await authorizer.authenticate(user: "root", password: "54321") == nil)
    }

    @Test func refusesAHomeMissingFromTheStorage() async throws {
        let file = try UsersTemporaryFile(contents: "root;\(Self.digest);/;elr\nbob;\(Self.digest);/bob;elr\n")
        defer { file.remove() }
        await #expect(
            throws: CredentialsError(
                source: file.path,
                line: 2,
                message: "home '/bob' of user 'bob' does not exist in the served storage"
            )
        ) {
            try await MD5Authorizer(fileSystem: Self.storage, credentialsFile: file.path)
        }
    }

    @Test func refusesPlainPasswordsInAnMD5File() async throws {
        let file = try UsersTemporaryFile(contents: "alice;12345;/alice;elr\n")
        defer { file.remove() }
        let error = await #expect(throws: CredentialsError.self) {
            try await MD5Authorizer(fileSystem: Self.storage, credentialsFile: file.path)
        }
        #expect(error?.line == 1)
        #expect(error?.message == "password field of user 'alice' is not an MD5 digest (32 hex digits)")
    }

    @Test func refusesAMissingCredentialsFile() async {
        await #expect(
            throws: CredentialsError(source: "/nonexistent/credentials.txt", message: "credentials file not found")
        ) {
            try await MD5Authorizer(fileSystem: Self.storage, credentialsFile: "/nonexistent/credentials.txt")
        }
    }
}
