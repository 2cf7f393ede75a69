import FTPServer
import FTPServerTesting
import Foundation
import VirtualFS

/// A ``Fixture`` served with FTPS: a fresh test authority and server certificate (RSA or EC), `ca.crt` written
/// beside the served root for the clients to trust, and the implicit FTPS port when asked for.
struct TLSFixture: Sendable {
    let fixture: Fixture
    let certificates: TestCertificates
    let store: TLSIdentityStore
    let port: Int
    let implicitPort: Int?

    var caFile: URL { self.fixture.base.url.appendingPathComponent("ca.crt") }

    /// The client scripts' environment, with the TLS facts added.
    func environment() -> [String: String] {
        var environment = self.fixture.environment(port: self.port)
        environment["FTP_CA_FILE"] = self.caFile.path
        environment["FTP_FINGERPRINT"] = self.certificates.fingerprint
        if let implicitPort { environment["FTP_IMPLICIT_PORT"] = "\(implicitPort)" }
        return environment
    }

    /// Where `server.crt` and `server.key` are when the identity comes from files.
    var certificateFile: URL { self.fixture.base.url.appendingPathComponent("server.crt") }
    var keyFile: URL { self.fixture.base.url.appendingPathComponent("server.key") }

    /// Serves a new fixture with TLS; `configure` sets the policy (and `tls.implicitPort = 0` for an implicit port).
    /// With `fromFiles`, the identity is loaded from `server.crt` and `server.key` written beside the root (so
    /// ``TLSIdentityStore/reload()`` can read them again).
    static func withServer<Result: Sendable>(
        keyType: TestCertificates.KeyType = .ecdsa,
        fromFiles: Bool = false,
        configure: @Sendable (inout FTPService.Configuration) -> Void = { _ in },
        _ body: @Sendable (TLSFixture) async throws -> Result
    ) async throws -> Result {
        let fixture = try Fixture()
        defer { fixture.base.remove() }
        let certificates = try TestCertificates(keyType: keyType)
        try certificates.write(to: fixture.base.url)
        let store =
            fromFiles
            ? try TLSIdentityStore(
                certificateFile: fixture.base.url.appendingPathComponent("server.crt").path,
                keyFile: fixture.base.url.appendingPathComponent("server.key").path
            )
            : TLSIdentityStore(identity: try certificates.identity())
        var configuration = TestServer.configuration()
        configuration.tls.identity = store
        configure(&configuration)
        let fileSystem = try LocalFileSystem(root: fixture.root.path)
        let authorizer = MD5Authorizer(entries: Fixture.entries)
        return try await TestServer.withServerPorts(
            configuration: configuration,
            fileSystem: fileSystem,
            authorizer: authorizer
        ) { ports in
            try await body(
                TLSFixture(
                    fixture: fixture,
                    certificates: certificates,
                    store: store,
                    port: ports.control,
                    implicitPort: ports.implicitTLS
                )
            )
        }
    }
}
