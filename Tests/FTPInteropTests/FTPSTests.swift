import FTPServer
import FTPServerTesting
import Foundation
import Synchronization
import Testing

/// FTPS against real TLS peers: Python's ftplib.FTP_TLS and ssl, curl, lftp (GnuTLS) and openssl s_client, on a
/// server with a certificate from a test authority that the clients are told to trust (host names verified).
@Suite("FTPS", .serialized)
struct FTPSTests {
    static let ftplibScript = Interop.targetDirectory().appendingPathComponent("Clients/ftplib_tls_client.py").path

    // MARK: Python ftplib.FTP_TLS

    /// 64 MiB up and down over PROT P, passive and active, SHA-256 compared; 0 and 1 byte too.
    static let roundTrips: [String] = [0, 1, 64 << 20].flatMap { size in
        ["pasv", "active"].map { "roundtrip-\(size)-\($0)" }
    }

    @Test(
        "ftplib FTP_TLS scenario",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3)),
        arguments: roundTrips + ["commands", "injection", "no-reuse-allowed", "abort"]
    )
    func ftplibScenario(_ name: String) async throws {
        try await Self.runFtplib(name)
    }

    @Test(
        "ftplib FTP_TLS with an RSA certificate",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func ftplibRSA() async throws {
        try await Self.runFtplib("roundtrip-1048576-pasv", keyType: .rsa)
    }

    @Test(
        "ftplib: with --tls-required, USER and PASS in clear get 534 and 530",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func requiredOnControl() async throws {
        try await Self.runFtplib("required-control") { $0.tls.requiredOnControl = true }
    }

    @Test(
        "ftplib: with data TLS required, PROT C gets 534 and a clear transfer 521",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func requiredOnData() async throws {
        try await Self.runFtplib("required-data") { $0.tls.requiredOnData = true }
    }

    @Test(
        "ftplib: with session reuse required, a data connection that does not resume, or resumes another session's TLS session, gets 522",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func reuseRequired() async throws {
        try await Self.runFtplib("reuse-required") { $0.tls.requireSessionReuse = true }
    }

    @Test(
        "ftplib: implicit FTPS, passive and active, protected by default",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func implicit() async throws {
        try await Self.runFtplib("implicit") { $0.tls.implicitPort = 0 }
    }

    @Test(
        "TLSIdentityStore.reload() (SIGHUP): new sessions get the new pair from the files, a session in progress keeps its own; a bad pair is refused",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func reload() async throws {
        let python = try Interop.tool("python3")
        try await TLSFixture.withServer(fromFiles: true) { server in
            let signals = try TemporaryDirectory(prefix: "fstpy-signals")
            defer { signals.remove() }
            // The second certificate comes from the same authority, so the client trusts both.
            let nextIdentity = try server.certificates.issue(keyType: .rsa)
            var environment = server.environment()
            environment["FTP_SIGNAL_DIR"] = signals.path
            environment["FTP_FINGERPRINT_NEXT"] = nextIdentity.fingerprint
            let finished = Mutex(false)
            let client = Task {
                defer { finished.withLock { $0 = true } }
                return try await ProcessRunner.run(
                    python,
                    [Self.ftplibScript, "reload", "\(server.port)"],
                    environment: environment,
                    timeout: .seconds(50)
                )
            }
            let ready = signals.url.appendingPathComponent("ready")
            while !FileManager.default.fileExists(atPath: ready.path) && !finished.withLock({ $0 }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            // A mismatched pair (the new certificate with the old key) is refused and changes nothing.
            try Data(nextIdentity.chainPEM.utf8).write(to: server.certificateFile)
            #expect(throws: TLSIdentityError.self) { try server.store.reload() }
            #expect(server.store.current.fingerprint == server.certificates.fingerprint)
            try nextIdentity.write(to: server.fixture.base.url)
            let reloaded = try server.store.reload()
            #expect(reloaded.fingerprint == nextIdentity.fingerprint)
            try Data("reloaded".utf8).write(to: signals.url.appendingPathComponent("reloaded"))
            let result = try await client.value
            #expect(result.status == 0 && !result.timedOut, "reload scenario: \(result.summary)")
        }
    }

    static func runFtplib(
        _ name: String,
        keyType: TestCertificates.KeyType = .ecdsa,
        configure: @escaping @Sendable (inout FTPService.Configuration) -> Void = { _ in }
    ) async throws {
        let python = try Interop.tool("python3")
        try await TLSFixture.withServer(keyType: keyType, configure: configure) { server in
            let result = try await ProcessRunner.run(
                python,
                [Self.ftplibScript, name, "\(server.port)"],
                environment: server.environment(),
                timeout: .seconds(150)
            )
            #expect(result.status == 0 && !result.timedOut, "ftplib TLS scenario \(name): \(result.summary)")
        }
    }

    // MARK: curl

    struct CurlCase: Sendable, CustomTestStringConvertible {
        var label: String
        /// Data connection mode and TLS options (`--ssl-reqd` unless the case says otherwise).
        var arguments: [String]
        var size: Int
        var testDescription: String { "\(self.label), \(self.size) B" }
    }

    /// Active mode with PROT P is left to ftplib and lftp: curl 7.87 to 7.88 (Debian 12's 7.88.1) never starts TLS on
    /// an active data connection (curl/curl#10666, fixed in 8.0). Active mode with a clear data connection under a
    /// protected control connection (`--ftp-ssl-control`, PROT C) is tested here instead.
    static let curlCases: [CurlCase] = [
        CurlCase(label: "EPSV", arguments: ["--ssl-reqd", "--ftp-pasv"], size: 64 << 20),
        CurlCase(label: "PASV", arguments: ["--ssl-reqd", "--ftp-pasv", "--disable-epsv"], size: 1 << 20),
        CurlCase(
            label: "active, TLS on control only",
            arguments: ["--ftp-ssl-control", "--ftp-port", "-"],
            size: 1 << 20
        ),
    ]

    @Test(
        "curl --ssl-reqd (AUTH TLS, PROT P): upload and download, bytes compared",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(3)),
        arguments: curlCases
    )
    func curlExplicit(_ transfer: CurlCase) async throws {
        let curl = try Curl()
        try await TLSFixture.withServer { server in
            let base = ["--cacert", server.caFile.path] + transfer.arguments
            try await Self.curlRoundTrip(curl, server, url: { Curl.url(server.port, $0) }, base, size: transfer.size)
        }
    }

    @Test(
        "curl ftps:// (implicit FTPS) upload, download and listing; and with session reuse required",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(2)),
        arguments: [false, true]
    )
    func curlImplicit(requireReuse: Bool) async throws {
        let curl = try Curl()
        try await TLSFixture.withServer(configure: {
            $0.tls.implicitPort = 0
            $0.tls.requireSessionReuse = requireReuse
        }) { server in
            let implicitPort = try #require(server.implicitPort)
            let base = ["--cacert", server.caFile.path]
            let url: @Sendable (String) -> String = { "ftps://\(Fixture.host):\(implicitPort)/\($0)" }
            try await Self.curlRoundTrip(curl, server, url: url, base, size: 4 << 20)
            let listing = try await curl.run(server.port, base + ["--list-only", url("")])
            #expect(listing.status == 0, "curl ftps:// listing: \(listing.summary)")
            #expect(listing.standardOutput.contains("down.bin"), "ftps:// NLST: \(listing.standardOutput)")
        }
    }

    @Test(
        "curl --ssl-reqd against a server that requires TLS session reuse (curl resumes)",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func curlWithReuseRequired() async throws {
        let curl = try Curl()
        try await TLSFixture.withServer(configure: {
            $0.tls.requireSessionReuse = true
            $0.tls.requiredOnControl = true
            $0.tls.requiredOnData = true
        }) { server in
            let base = ["--ssl-reqd", "--cacert", server.caFile.path, "--ftp-pasv"]
            try await Self.curlRoundTrip(curl, server, url: { Curl.url(server.port, $0) }, base, size: 3 << 20)
            // Without --ssl-reqd curl logs in in clear: refused.
            let clear = try await curl.run(server.port, [Curl.url(server.port, "down.bin")])
            #expect(clear.status != 0, "a clear login must fail when TLS is required: \(clear.summary)")
        }
    }

    static func curlRoundTrip(
        _ curl: Curl,
        _ server: TLSFixture,
        url: @Sendable (String) -> String,
        _ arguments: [String],
        size: Int
    ) async throws {
        let scratch = try TemporaryDirectory(prefix: "fstpy-curl-tls")
        defer { scratch.remove() }
        let data = try TestData.random(size)
        let local = scratch.url.appendingPathComponent("upload.bin")
        try data.write(to: local)
        let upload = try await curl.run(server.port, arguments + ["-T", local.path, url("up.bin")])
        #expect(upload.status == 0, "curl TLS upload: \(upload.summary)")
        let stored = try Data(contentsOf: server.fixture.url("up.bin"))
        #expect(stored == data, "uploaded file on disk: \(TestData.difference(stored, data))")
        let other = try TestData.random(size)
        try other.write(to: server.fixture.url("down.bin"))
        let download = try await curl.run(server.port, arguments + [url("down.bin")])
        #expect(download.status == 0, "curl TLS download: \(download.summary)")
        #expect(download.stdout == other, "downloaded bytes: \(TestData.difference(download.stdout, other))")
    }

    // MARK: lftp (GnuTLS)

    static func lftpTLSSettings(_ server: TLSFixture) -> String {
        """
        set ftp:ssl-force yes; set ftp:ssl-protect-data yes; set ftp:ssl-protect-list yes; \
        set ssl:ca-file \(Lftp.quoted(server.caFile.path)); set ssl:verify-certificate yes;
        """
    }

    @Test(
        "lftp with ftp:ssl-force and ftp:ssl-protect-data: 64 MiB put and get, passive and active, with session reuse required",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(3)),
        arguments: [true, false]
    )
    func lftpExplicit(passive: Bool) async throws {
        let lftp = try Lftp()
        try await TLSFixture.withServer(keyType: .rsa, configure: { $0.tls.requireSessionReuse = true }) { server in
            let scratch = try TemporaryDirectory(prefix: "fstpy-lftp-tls")
            defer { scratch.remove() }
            let data = try TestData.random(64 << 20)
            let local = scratch.url.appendingPathComponent("big.bin")
            try data.write(to: local)
            let back = scratch.url.appendingPathComponent("back.bin")
            let result = try await lftp.run(
                server.port,
                home: scratch,
                passive: passive,
                settings: Self.lftpTLSSettings(server),
                """
                put \(Lftp.quoted(local.path)) -o big.bin; \
                get big.bin -o \(Lftp.quoted(back.path)); \
                cls -l
                """
            )
            #expect(result.status == 0, "lftp over TLS: \(result.summary)")
            #expect(result.standardOutput.contains("big.bin"), "cls -l over TLS: \(result.standardOutput)")
            let stored = try Data(contentsOf: server.fixture.url("big.bin"))
            #expect(stored == data, "put: \(TestData.difference(stored, data))")
            let got = try Data(contentsOf: back)
            #expect(got == data, "get: \(TestData.difference(got, data))")
        }
    }

    @Test(
        "lftp ftps:// (implicit FTPS): mirror a small tree up",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func lftpImplicit() async throws {
        let lftp = try Lftp()
        try await TLSFixture.withServer(configure: { $0.tls.implicitPort = 0 }) { server in
            let implicitPort = try #require(server.implicitPort)
            let scratch = try TemporaryDirectory(prefix: "fstpy-lftp-tls")
            defer { scratch.remove() }
            let source = scratch.url.appendingPathComponent("tree", isDirectory: true)
            try FileManager.default.createDirectory(
                at: source.appendingPathComponent("sub"),
                withIntermediateDirectories: true
            )
            try TestData.random(200_000).write(to: source.appendingPathComponent("a.bin"))
            try TestData.random(3).write(to: source.appendingPathComponent("sub/b.bin"))
            let result = try await lftp.run(
                implicitPort,
                home: scratch,
                scheme: "ftps",
                settings: "set ssl:ca-file \(Lftp.quoted(server.caFile.path)); set ssl:verify-certificate yes;",
                "mirror -R \(Lftp.quoted(source.path)) tree"
            )
            #expect(result.status == 0, "lftp ftps:// mirror -R: \(result.summary)")
            #expect(
                try TestData.tree(at: server.fixture.url("tree")) == TestData.tree(at: source),
                "the mirrored tree differs"
            )
        }
    }

    // MARK: openssl s_client

    @Test(
        "openssl s_client -starttls ftp: TLS 1.0 and 1.1 refused, 1.2 and 1.3 accepted, no weak TLS 1.2 suites",
        .enabled(if: Interop.available("openssl") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func protocolVersions() async throws {
        let openssl = try Interop.tool("openssl")
        try await TLSFixture.withServer(keyType: .rsa) { server in
            func handshake(_ options: [String]) async throws -> ProcessResult {
                try await ProcessRunner.run(
                    openssl,
                    [
                        "s_client", "-starttls", "ftp", "-connect", "\(Fixture.host):\(server.port)", "-CAfile",
                        server.caFile.path, "-verify_return_error", "-brief",
                    ] + options,
                    stdin: Data("QUIT\r\n".utf8),
                    timeout: .seconds(20)
                )
            }
            // SECLEVEL=0 lets the client offer the old versions, so it is the server that refuses them.
            for version in ["-tls1", "-tls1_1"] {
                let old = try await handshake([version, "-cipher", "DEFAULT:@SECLEVEL=0"])
                #expect(old.status != 0, "\(version) must be refused: \(old.summary)")
                #expect(
                    !old.standardError.contains("Protocol version:"),
                    "\(version) handshake completed: \(old.summary)"
                )
            }
            for (version, name) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
                let good = try await handshake([version])
                #expect(
                    good.standardError.contains("Protocol version: \(name)"),
                    "\(version) must be accepted: \(good.summary)"
                )
                #expect(good.standardError.contains("Verification: OK"), "certificate check: \(good.summary)")
            }
            // TLS 1.2 without forward secrecy, or with CBC: refused.
            for cipher in ["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA"] {
                let weak = try await handshake(["-tls1_2", "-cipher", cipher])
                #expect(
                    !weak.standardError.contains("Protocol version:"),
                    "the TLS 1.2 suite \(cipher) must be refused: \(weak.summary)"
                )
            }
        }
    }
}
