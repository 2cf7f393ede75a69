import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// FTPS from the command line: certificates made by openssl (RSA and EC, PKCS#1, PKCS#8 and SEC 1 keys), the TLS
/// flags and FSTPY_ variables, one-line errors for a bad pair, the warning when TLS was not asked for, and the first
/// run's self-signed certificate.
@Suite("fstpyd FTPS")
struct FstpydTLSTests {
    /// How openssl makes a key and a self-signed certificate (valid for 127.0.0.1) into `name.key` and `name.crt`.
    enum KeyKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case rsaPKCS8 = "rsa-pkcs8"
        case rsaPKCS1 = "rsa-pkcs1"
        case ecP256SEC1 = "ec-p256-sec1"
        case ecP384PKCS8 = "ec-p384-pkcs8"

        var testDescription: String { self.rawValue }

        /// Shell commands (in the working directory) that make `NAME.key` and `NAME.crt`.
        func commands(_ name: String) -> String {
            let certificate =
                "openssl req -x509 -key \(name).key -out \(name).crt -subj /CN=localhost -days 2 "
                + "-addext subjectAltName=IP:127.0.0.1,DNS:localhost"
            switch self {
            case .rsaPKCS8:
                return "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out \(name).key && \(certificate)"
            case .rsaPKCS1:
                return
                    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out \(name).p8 && "
                    + "openssl rsa -in \(name).p8 -traditional -out \(name).key && \(certificate)"
            case .ecP256SEC1:
                return "openssl ecparam -name prime256v1 -genkey -noout -out \(name).key && \(certificate)"
            case .ecP384PKCS8:
                return
                    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out \(name).key && \(certificate)"
            }
        }

        /// The PEM header the key file must have (so the test covers each form).
        var keyHeader: String {
            switch self {
            case .rsaPKCS8, .ecP384PKCS8: "-----BEGIN PRIVATE KEY-----"
            case .rsaPKCS1: "-----BEGIN RSA PRIVATE KEY-----"
            case .ecP256SEC1: "-----BEGIN EC PRIVATE KEY-----"
            }
        }
    }

    /// Runs a shell command line in `directory`; records a failure (naming the tool) when it fails.
    @discardableResult
    static func shell(
        _ command: String,
        in directory: WorkingDirectory,
        timeout: Duration = .seconds(60),
        expectSuccess: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let child = try ChildProcess(
            executable: "/bin/sh",
            arguments: ["-c", command],
            environment: Fstpyd.environment([:]),
            currentDirectory: directory.url
        )
        defer { child.kill() }
        let status = await child.waitForExit(timeout: timeout)
        if expectSuccess && status != 0 {
            Issue.record(
                "`\(command)` failed (status \(String(describing: status))); scripts/test installs openssl and curl:\n\(child.standardError)",
                sourceLocation: sourceLocation
            )
        }
        return (status, child.standardOutput, child.standardError)
    }

    static func makePair(_ kind: KeyKind, _ name: String, in directory: WorkingDirectory) async throws {
        try await Self.shell(kind.commands(name), in: directory)
    }

    /// The SHA-256 fingerprint openssl gives for a certificate file, as `AB:CD:...`.
    static func fingerprint(ofFile file: String, in directory: WorkingDirectory) async throws -> String {
        let result = try await Self.shell("openssl x509 -noout -fingerprint -sha256 -in \(file)", in: directory)
        return Self.fingerprintValue(result.stdout)
    }

    /// The SHA-256 fingerprint of the certificate the server presents after AUTH TLS.
    static func servedFingerprint(port: Int, in directory: WorkingDirectory) async throws -> String {
        let result = try await Self.shell(
            "openssl s_client -starttls ftp -connect 127.0.0.1:\(port) </dev/null 2>/dev/null"
                + " | openssl x509 -noout -fingerprint -sha256",
            in: directory
        )
        return Self.fingerprintValue(result.stdout)
    }

    static func fingerprintValue(_ text: String) -> String {
        // "sha256 Fingerprint=AB:CD:..." (the label's case varies between openssl versions).
        guard let equals = text.firstIndex(of: "=") else { return "" }
        return text[text.index(after: equals)...].trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }

    // MARK: Serving FTPS

    @Test(
        "fstpyd serves explicit and implicit FTPS from openssl-made keys, refusing logins in clear",
        .timeLimit(.minutes(2)),
        arguments: KeyKind.allCases
    )
    func servesFTPS(_ kind: KeyKind) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        try await Self.makePair(kind, "pair", in: directory)
        let keyText = try String(contentsOf: directory.path("pair.key"), encoding: .utf8)
        #expect(keyText.hasPrefix(kind.keyHeader), "openssl made another key form: \(keyText.prefix(40))")
        let expected = try await Self.fingerprint(ofFile: "pair.crt", in: directory)
        let port = try Loopback.freePort()
        let implicitPort = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await FstpydCLITests.withDaemon(
            FstpydCLITests.StartupErrorCase.standard(
                port,
                passive,
                ["--keyfile", "pair.key", "--crtfile", "pair.crt", "--tls-required", "osfs://./served"]
            ),
            environment: ["FSTPY_IMPLICIT_TLS_PORT": "\(implicitPort)", "FSTPY_TLS_DATA_REQUIRED": "yes"],
            in: directory,
            port: port
        ) { child in
            // The log names the certificate by its fingerprint (written just after the port opens).
            let logged = await child.wait(timeout: .seconds(10)) { child.standardError.contains(expected) }
            #expect(logged, "the log should show the fingerprint: \(child.summary)")
            // USER in clear: refused, saying why.
            let clear = try MiniFTP(port: port)
            let refused = try clear.command("USER dave")
            #expect(refused.hasPrefix("534") && refused.contains("TLS"), "USER in clear: \(refused)")
            #expect(try await Self.servedFingerprint(port: port, in: directory) == expected)

            try directory.write("local.txt", "over FTPS, \(kind.rawValue)\n")
            let user = "dave:\(FstpydCLITests.davePassword)"
            try await Self.shell(
                "curl -q -sS --ssl-reqd --cacert pair.crt --user \(user) -T local.txt ftp://127.0.0.1:\(port)/up.txt",
                in: directory
            )
            #expect(
                try String(contentsOf: directory.path("served/up.txt"), encoding: .utf8)
                    == "over FTPS, \(kind.rawValue)\n",
                "upload over explicit FTPS"
            )
            let implicit = try await Self.shell(
                "curl -q -sS --cacert pair.crt --user \(user) ftps://127.0.0.1:\(implicitPort)/up.txt",
                in: directory
            )
            #expect(implicit.stdout == "over FTPS, \(kind.rawValue)\n", "download over implicit FTPS: \(implicit)")
            await FstpydCLITests.expectCleanStop(child)
        }
    }

    @Test(
        "fstpyd first run: FTPS with a self-signed certificate whose printed fingerprint is the one served",
        .timeLimit(.minutes(1))
    )
    func firstRunSelfSigned() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await FstpydCLITests.withDaemon(
            ["--port", "\(port)", "--passive-ports-lower", "\(passive)", "--passive-ports-upper", "\(passive)"],
            in: directory,
            port: port
        ) { child in
            let printed = await child.wait(timeout: .seconds(10)) { child.standardError.contains("fingerprint is ") }
            #expect(printed, "no fingerprint on stderr: \(child.summary)")
            let stderr = child.standardError
            guard let range = stderr.range(of: #"fingerprint is ([0-9A-F:]{95})"#, options: .regularExpression) else {
                Issue.record("no SHA-256 fingerprint in: \(stderr)")
                return
            }
            let fingerprint = String(stderr[range].dropFirst("fingerprint is ".count))
            #expect(try await Self.servedFingerprint(port: port, in: directory) == fingerprint)
            guard let passwordRange = stderr.range(of: #"password '([^']+)'"#, options: .regularExpression) else {
                Issue.record("no password printed: \(stderr)")
                return
            }
            let password = String(stderr[passwordRange].dropFirst("password '".count).dropLast())
            try directory.write("note.txt", "first run over TLS\n")
            // -k: nothing can vouch for a certificate made a moment ago; the fingerprint is the way to check it.
            try await Self.shell(
                "curl -q -sS --ssl-reqd -k --user fstpy:\(password) -T note.txt ftp://127.0.0.1:\(port)/note.txt",
                in: directory
            )
            #expect(
                try String(contentsOf: directory.path("ftp-root/note.txt"), encoding: .utf8) == "first run over TLS\n"
            )
            await FstpydCLITests.expectCleanStop(child)
        }
    }

    @Test(
        "fstpyd with a bad server.crt/server.key pair it was not asked to use: a warning, then plain FTP (AUTH gets 502)",
        .timeLimit(.minutes(1))
    )
    func badDefaultPairIsAWarning() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        try await Self.makePair(.ecP256SEC1, "one", in: directory)
        try await Self.makePair(.rsaPKCS8, "two", in: directory)
        try FileManager.default.copyItem(at: directory.path("one.crt"), to: directory.path("server.crt"))
        try FileManager.default.copyItem(at: directory.path("two.key"), to: directory.path("server.key"))
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await FstpydCLITests.withDaemon(
            FstpydCLITests.StartupErrorCase.standard(port, passive, ["osfs://./served"]),
            in: directory,
            port: port
        ) { child in
            #expect(
                child.standardError.contains("FTPS is off") && child.standardError.contains("does not match"),
                "a warning naming the problem: \(child.summary)"
            )
            let ftp = try MiniFTP(port: port)
            #expect(try ftp.command("AUTH TLS").hasPrefix("502"))
            #expect(try ftp.login("dave", FstpydCLITests.davePassword).hasPrefix("230"))
            await FstpydCLITests.expectCleanStop(child)
        }
    }

    // MARK: Startup errors

    struct TLSErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var environment: [String: String] = [:]
        /// Files to make (pairs) and copy to the default names.
        var defaultPair: (crt: String, key: String)? = nil
        var mentions: [String]
        var testDescription: String { self.name }
    }

    static let tlsErrors: [TLSErrorCase] = [
        .init(
            name: "mismatched pair named by flags",
            arguments: ["--crtfile", "rsa.crt", "--keyfile", "ec.key"],
            mentions: ["ec.key", "rsa.crt", "does not match"]
        ),
        .init(
            name: "missing key file",
            arguments: ["--crtfile", "rsa.crt", "--keyfile", "nope.key"],
            mentions: ["nope.key", "no such file"]
        ),
        .init(
            name: "missing certificate from FSTPY_CRTFILE",
            arguments: [],
            environment: ["FSTPY_CRTFILE": "gone.crt", "FSTPY_KEYFILE": "rsa.key"],
            mentions: ["gone.crt"]
        ),
        .init(name: "--tls-required without any certificate", arguments: ["--tls-required"], mentions: ["server.crt"]),
        .init(
            name: "implicit port with a mismatched default pair",
            arguments: [],
            environment: ["FSTPY_IMPLICIT_TLS_PORT": "0"],
            defaultPair: ("rsa.crt", "ec.key"),
            mentions: ["server.key", "does not match"]
        ),
        .init(
            name: "key file that is a certificate",
            arguments: ["--crtfile", "rsa.crt", "--keyfile", "rsa.crt"],
            mentions: ["rsa.crt", "no private key"]
        ),
        .init(
            name: "bad FSTPY_TLS_REQUIRED",
            arguments: [],
            environment: ["FSTPY_TLS_REQUIRED": "maybe"],
            mentions: ["FSTPY_TLS_REQUIRED", "maybe"]
        ),
        .init(
            name: "bad FSTPY_IMPLICIT_TLS_PORT",
            arguments: [],
            environment: ["FSTPY_IMPLICIT_TLS_PORT": "ninety"],
            mentions: ["FSTPY_IMPLICIT_TLS_PORT"]
        ),
    ]

    @Test("fstpyd TLS startup error: one line on stderr, exit status 1", .timeLimit(.minutes(1)), arguments: tlsErrors)
    func tlsStartupError(_ failure: TLSErrorCase) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        try await Self.makePair(.rsaPKCS8, "rsa", in: directory)
        try await Self.makePair(.ecP256SEC1, "ec", in: directory)
        if let pair = failure.defaultPair {
            try FileManager.default.copyItem(at: directory.path(pair.crt), to: directory.path("server.crt"))
            try FileManager.default.copyItem(at: directory.path(pair.key), to: directory.path("server.key"))
        }
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        let result = try await runFstpyd(
            FstpydCLITests.StartupErrorCase.standard(port, passive, failure.arguments + ["osfs://./served"]),
            environment: failure.environment,
            in: directory
        )
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(result.status == 1, "exit status \(String(describing: result.status)); stderr: \(result.stderr)")
        #expect(lines.count == 1, "stderr should be exactly one line, got \(lines.count):\n\(result.stderr)")
        #expect(lines.first?.hasPrefix("fstpyd: error: ") == true, "stderr: \(result.stderr)")
        for text in failure.mentions {
            #expect(lines.first?.contains(text) == true, "the error should mention '\(text)': \(result.stderr)")
        }
    }

    @Test("--implicit-tls-port equal to --port is refused", .timeLimit(.minutes(1)))
    func implicitPortClash() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        let port = try Loopback.freePort()
        let result = try await runFstpyd(
            ["--address", "127.0.0.1", "--port", "\(port)", "--implicit-tls-port", "\(port)", "osfs://./served"],
            in: directory
        )
        #expect(result.status == 1 && result.stderr.contains("--implicit-tls-port"), "stderr: \(result.stderr)")
    }
}
