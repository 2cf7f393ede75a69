import FTPServer
import FTPServerTesting
import Foundation
import Logging
import VirtualFS

/// A served temporary directory with three users, and a running server in front of it.
///
/// On disk (`root` is what the server serves):
///
///     <base>/root/pub/readme.txt          readable by everyone
///     <base>/root/secret.txt              outside carol's home: she must never reach it
///     <base>/root/carol/inside.txt        carol's home is /carol (her jail)
///     <base>/root/escape-file  → <base>/outside/secret-outside.txt   symbolic links leading out of the root
///     <base>/root/escape-dir   → <base>/outside
///     <base>/outside/secret-outside.txt   not served at all
///
/// Users: alice (every permission, home /, login and logout messages), bob (read only: elr, home /), carol (every
/// permission, home /carol).
struct Fixture: Sendable {
    let base: TemporaryDirectory
    var root: URL { self.base.url.appendingPathComponent("root", isDirectory: true) }
    var outside: URL { self.base.url.appendingPathComponent("outside", isDirectory: true) }

    static let host = "127.0.0.1"
    static let alicePassword = "alice-secret-1"
    static let bobPassword = "bob-secret-2"
    static let carolPassword = "carol-secret-3"
    static let aliceLoginMessage = "Welcome, Alice."
    static let aliceLogoutMessage = "Bye, Alice."
    static let readmeText = "Read me, bob.\n"
    static let secretText = "Outside carol's home.\n"
    static let outsideText = "Not served at all.\n"

    /// The users, with MD5 secrets (`printf %s PASSWORD | md5sum`).
    static let entries: [CredentialsEntry] = [
        CredentialsEntry(
            user: "alice",
            secret: "ac23cabde4864131916607d44be0fc23",
            home: "/",
            permissions: .all,
            loginMessage: aliceLoginMessage,
            logoutMessage: aliceLogoutMessage
        ),
        CredentialsEntry(user: "bob", secret: "9c604997d47814e10f17c9f5f5b46367", home: "/", permissions: .readOnly),
        CredentialsEntry(user: "carol", secret: "659dd1d52c6ab3d3be178382e0fedaa6", home: "/carol", permissions: .all),
    ]

    init() throws {
        self.base = try TemporaryDirectory(prefix: "fstpy-interop")
        let manager = FileManager.default
        try manager.createDirectory(at: self.root.appendingPathComponent("pub"), withIntermediateDirectories: true)
        try manager.createDirectory(at: self.root.appendingPathComponent("carol"), withIntermediateDirectories: true)
        try manager.createDirectory(at: self.outside, withIntermediateDirectories: true)
        try Data(Self.readmeText.utf8).write(to: self.root.appendingPathComponent("pub/readme.txt"))
        try Data(Self.secretText.utf8).write(to: self.root.appendingPathComponent("secret.txt"))
        try Data("Carol's own file.\n".utf8).write(to: self.root.appendingPathComponent("carol/inside.txt"))
        let outsideFile = self.outside.appendingPathComponent("secret-outside.txt")
        try Data(Self.outsideText.utf8).write(to: outsideFile)
        try manager.createSymbolicLink(
            atPath: self.root.appendingPathComponent("escape-file").path,
            withDestinationPath: outsideFile.path
        )
        try manager.createSymbolicLink(
            atPath: self.root.appendingPathComponent("escape-dir").path,
            withDestinationPath: self.outside.path
        )
    }

    func url(_ relative: String) -> URL {
        self.root.appendingPathComponent(relative)
    }

    /// What the client scripts need to know: where the served root is, and who may log in.
    func environment(port: Int, host: String = Fixture.host) -> [String: String] {
        [
            "FTP_HOST": host,
            "FTP_PORT": "\(port)",
            "FTP_ROOT": self.root.path,
            "FTP_OUTSIDE": self.outside.path,
            "FTP_ALICE_PASSWORD": Self.alicePassword,
            "FTP_BOB_PASSWORD": Self.bobPassword,
            "FTP_CAROL_PASSWORD": Self.carolPassword,
            "FTP_ALICE_LOGIN_MESSAGE": Self.aliceLoginMessage,
            "FTP_ALICE_LOGOUT_MESSAGE": Self.aliceLogoutMessage,
            "FTP_README_TEXT": Self.readmeText,
            "FTP_SECRET_TEXT": Self.secretText,
            "FTP_OUTSIDE_TEXT": Self.outsideText,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        ]
    }

    /// Creates a fixture, serves it with the real server on a free port, runs `body`, then stops the server and
    /// removes the directory (also when `body` throws).
    static func withServer<Result: Sendable>(
        host: String = Fixture.host,
        logger: Logger = Logger(label: "fstpy.test"),
        configure: @Sendable (inout FTPService.Configuration) -> Void = { _ in },
        _ body: @Sendable (Fixture, Int) async throws -> Result
    ) async throws -> Result {
        let fixture = try Fixture()
        defer { fixture.base.remove() }
        var configuration = TestServer.configuration()
        configuration.host = host
        configure(&configuration)
        let fileSystem = try LocalFileSystem(root: fixture.root.path)
        let authorizer = MD5Authorizer(entries: Self.entries)
        return try await TestServer.withServer(
            configuration: configuration,
            fileSystem: fileSystem,
            authorizer: authorizer,
            logger: logger
        ) { port in
            try await body(fixture, port)
        }
    }
}
