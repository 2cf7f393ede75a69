import Foundation
import Testing

/// The built `fstpyd` daemon, driven as a user would: --help, startup errors, the first run, credentials files,
/// banners, flags against FSTPY_ variables, and signals.
@Suite("fstpyd command line")
struct FstpydCLITests {
    static let davePassword = "dave-pass"
    /// `printf %s dave-pass | md5sum`
    static let daveMD5 = "d1bb790f5b874a6448d72383e596e1c3"
    static let credentials = """
        # user;md5;home;permissions;login message;logout message
        dave;\(daveMD5);/;elradfmwMT;Hello Dave.;Goodbye Dave.

        """

    // MARK: --help

    @Test("fstpyd --help names every flag and every FSTPY_ variable")
    func help() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        let result = try await runFstpyd(["--help"], in: directory)
        #expect(result.status == 0, "fstpyd --help: \(result.stderr)")
        let text = result.stdout + result.stderr
        let flags = [
            "-a, --address", "--port", "-m, --masquerade", "--passive-ports-lower", "--passive-ports-upper",
            "--credentials", "-k, --keyfile", "-c, --crtfile", "-b, --banner", "--max-connections",
            "--max-connections-per-ip", "--plain-passwords", "--log-level", "--implicit-tls-port", "--tls-required",
            "--tls-data-required", "--tls-require-session-reuse",
        ]
        for flag in flags {
            #expect(text.contains(flag), "--help lacks \(flag)")
        }
        let variables = [
            "FSTPY_HOST", "FSTPY_PORT", "FSTPY_MASQUERADE", "FSTPY_PASSIVE_LOWER", "FSTPY_PASSIVE_UPPER",
            "FSTPY_CREDENTIALS", "FSTPY_KEYFILE", "FSTPY_CRTFILE", "FSTPY_BANNER", "FSTPY_MAX_CONNECTIONS",
            "FSTPY_MAX_CONNECTIONS_PER_IP", "FSTPY_IMPLICIT_TLS_PORT", "FSTPY_TLS_REQUIRED", "FSTPY_TLS_DATA_REQUIRED",
            "FSTPY_TLS_REQUIRE_SESSION_REUSE",
        ]
        for variable in variables {
            #expect(text.contains(variable), "--help lacks \(variable)")
        }
        #expect(text.contains("osfs://") && text.contains("mem://"), "--help should name the URL schemes")
    }

    // MARK: Startup errors

    struct StartupErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        /// The arguments, given a free control port and a free passive port.
        var arguments: @Sendable (_ port: Int, _ passive: Int) -> [String]
        var environment: [String: String] = [:]
        /// credentials.txt in the working directory.
        var credentials: String? = FstpydCLITests.credentials
        /// Hold the control port with a listening socket first.
        var portInUse = false
        /// Substrings the error line must contain.
        var mentions: [String]

        var testDescription: String { self.name }

        static func standard(_ port: Int, _ passive: Int, _ extra: [String]) -> [String] {
            [
                "--address", "127.0.0.1", "--port", "\(port)", "--passive-ports-lower", "\(passive)",
                "--passive-ports-upper", "\(passive)",
            ] + extra
        }
    }

    static let startupErrors: [StartupErrorCase] = [
        .init(
            name: "unknown URL scheme",
            arguments: { StartupErrorCase.standard($0, $1, ["nope://x"]) },
            mentions: ["nope"]
        ),
        .init(
            name: "osfs root missing",
            arguments: { StartupErrorCase.standard($0, $1, ["osfs://./does-not-exist"]) },
            mentions: ["does-not-exist"]
        ),
        .init(
            name: "explicit credentials file missing",
            arguments: {
                StartupErrorCase.standard($0, $1, ["--credentials", "missing-users.txt", "osfs://./served"])
            },
            mentions: ["missing-users.txt"]
        ),
        .init(
            name: "credentials file from FSTPY_CREDENTIALS missing",
            arguments: { StartupErrorCase.standard($0, $1, ["osfs://./served"]) },
            environment: ["FSTPY_CREDENTIALS": "also-missing.txt"],
            mentions: ["also-missing.txt"]
        ),
        .init(
            name: "malformed credentials line",
            arguments: { StartupErrorCase.standard($0, $1, ["osfs://./served"]) },
            credentials: "dave;\(daveMD5);/;elr\nthis line has no fields\n",
            mentions: ["credentials.txt", "2"]
        ),
        .init(
            name: "unknown permission letter",
            arguments: { StartupErrorCase.standard($0, $1, ["osfs://./served"]) },
            credentials: "# comment\n\ndave;\(daveMD5);/;elrZ\n",
            mentions: ["Z", "3"]
        ),
        .init(
            name: "home missing in the storage",
            arguments: { StartupErrorCase.standard($0, $1, ["osfs://./served"]) },
            credentials: "dave;\(daveMD5);/no-such-home;elr\n",
            mentions: ["no-such-home"]
        ),
        .init(
            name: "port already in use",
            arguments: { StartupErrorCase.standard($0, $1, ["osfs://./served"]) },
            portInUse: true,
            mentions: []
        ),
        .init(
            name: "passive lower above upper",
            arguments: { port, _ in
                [
                    "--address", "127.0.0.1", "--port", "\(port)", "--passive-ports-lower", "6000",
                    "--passive-ports-upper", "5000", "osfs://./served",
                ]
            },
            mentions: ["6000", "5000"]
        ),
        .init(
            name: "non-numeric FSTPY_PORT",
            arguments: { _, passive in
                [
                    "--address", "127.0.0.1", "--passive-ports-lower", "\(passive)", "--passive-ports-upper",
                    "\(passive)",
                    "osfs://./served",
                ]
            },
            environment: ["FSTPY_PORT": "abc"],
            mentions: ["FSTPY_PORT", "abc"]
        ),
        .init(
            name: "port out of range",
            arguments: { _, passive in
                [
                    "--address", "127.0.0.1", "--port", "70000", "--passive-ports-lower", "\(passive)",
                    "--passive-ports-upper", "\(passive)", "osfs://./served",
                ]
            },
            mentions: ["70000"]
        ),
        .init(
            name: "masquerade address not IPv4",
            arguments: { StartupErrorCase.standard($0, $1, ["--masquerade", "not-an-address", "osfs://./served"]) },
            mentions: ["not-an-address"]
        ),
        .init(
            name: "unknown log level",
            arguments: { StartupErrorCase.standard($0, $1, ["--log-level", "loud", "osfs://./served"]) },
            mentions: ["loud"]
        ),
        .init(
            name: "listen address that is not an address",
            arguments: { port, passive in
                [
                    "--address", "999.1.2.3", "--port", "\(port)", "--passive-ports-lower", "\(passive)",
                    "--passive-ports-upper", "\(passive)", "osfs://./served",
                ]
            },
            mentions: ["999.1.2.3"]
        ),
    ]

    @Test("fstpyd startup error: one line on stderr, exit status 1", .timeLimit(.minutes(1)), arguments: startupErrors)
    func startupError(_ failure: StartupErrorCase) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        if let credentials = failure.credentials { try directory.write("credentials.txt", credentials) }
        var held: HeldPort?
        if failure.portInUse { held = try HeldPort() }
        defer { held?.close() }
        let port = try held?.port ?? Loopback.freePort()
        let passive = try Loopback.freePort()

        let result = try await runFstpyd(
            failure.arguments(port, passive),
            environment: failure.environment,
            in: directory
        )
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(result.status != nil, "fstpyd did not exit within 20 s (\(failure.name)); stderr: \(result.stderr)")
        #expect(
            result.status == 1,
            "exit status \(String(describing: result.status)), expected 1; stderr: \(result.stderr)"
        )
        #expect(lines.count == 1, "stderr should be exactly one line, got \(lines.count):\n\(result.stderr)")
        #expect(lines.first?.hasPrefix("fstpyd: error: ") == true, "stderr: \(result.stderr)")
        for text in failure.mentions {
            #expect(lines.first?.contains(text) == true, "the error should mention '\(text)': \(result.stderr)")
        }
        for crash in ["Fatal error", "Stack dump", "backtrace", "Crash", "💣"] {
            #expect(!result.stderr.contains(crash), "a crash, not an error message: \(result.stderr)")
        }
    }

    @Test("fstpyd refuses a malformed flag value without a crash", .timeLimit(.minutes(1)))
    func badFlagValue() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        for arguments in [["--port", "abc"], ["--no-such-flag"], ["--max-connections", "-5"]] {
            let result = try await runFstpyd(arguments, in: directory)
            #expect(
                result.status != nil && result.status != 0,
                "fstpyd \(arguments): status \(String(describing: result.status))"
            )
            #expect(!result.stderr.contains("Fatal error"), "fstpyd \(arguments) crashed: \(result.stderr)")
            #expect(
                !FileManager.default.fileExists(atPath: directory.path("ftp-root").path),
                "fstpyd \(arguments) started a first run instead of refusing the flag"
            )
        }
    }

    // MARK: Running daemons

    /// Starts the daemon, waits until it accepts connections on `port`, runs `body`, and always kills it.
    static func withDaemon(
        _ arguments: [String],
        environment: [String: String] = [:],
        in directory: WorkingDirectory,
        port: Int,
        _ body: (ChildProcess) async throws -> Void
    ) async throws {
        let child = try ChildProcess(
            executable: try Fstpyd.executable(),
            arguments: arguments,
            environment: Fstpyd.environment(environment),
            currentDirectory: directory.url
        )
        defer { child.kill() }
        let listening = await child.wait(timeout: .seconds(30)) { Loopback.isListening(port: port) }
        guard listening else {
            Issue.record("fstpyd \(arguments) never listened on 127.0.0.1:\(port): \(child.summary)")
            return
        }
        try await body(child)
    }

    /// SIGTERM, then the daemon must exit with status 0 within a few seconds.
    static func expectCleanStop(_ child: ChildProcess, signal: Int32 = SIGTERM) async {
        child.signal(signal)
        let status = await child.waitForExit(timeout: .seconds(10))
        #expect(status != nil, "fstpyd did not stop within 10 s of signal \(signal): \(child.summary)")
        #expect(
            status == 0,
            "fstpyd's exit status after signal \(signal): \(String(describing: status)): \(child.summary)"
        )
    }

    @Test(
        "fstpyd first run: creates ./ftp-root, prints a password once, serves it, stops on SIGTERM",
        .timeLimit(.minutes(2))
    )
    func firstRun() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await Self.withDaemon(
            ["--port", "\(port)", "--passive-ports-lower", "\(passive)", "--passive-ports-upper", "\(passive)"],
            in: directory,
            port: port
        ) { child in
            let printed = await child.wait(timeout: .seconds(10)) { child.standardError.contains("password '") }
            #expect(printed, "no password on stderr: \(child.summary)")
            let stderr = child.standardError
            guard let range = stderr.range(of: #"password '([^']+)'"#, options: .regularExpression) else { return }
            let password = String(stderr[range].dropFirst("password '".count).dropLast())
            #expect(password.count >= 12, "a short first-run password: \(password.count) characters")
            #expect(stderr.contains("user 'fstpy'"), "the first-run user should be named: \(stderr)")
            var isDirectory: ObjCBool = false
            #expect(
                FileManager.default.fileExists(atPath: directory.path("ftp-root").path, isDirectory: &isDirectory)
                    && isDirectory.boolValue,
                "./ftp-root was not created"
            )

            let ftp = try MiniFTP(port: port)
            #expect(ftp.greeting.hasPrefix("220"), "greeting: \(ftp.greeting)")
            let wrong = try ftp.login("fstpy", "not-" + password)
            #expect(wrong.hasPrefix("530"), "a wrong first-run password: \(wrong)")
            let login = try ftp.login("fstpy", password)
            #expect(login.hasPrefix("230"), "login with the printed password: \(login)")
            let payload = Data("hello from the first run\n".utf8)
            let stored = try ftp.upload("hello.txt", payload)
            #expect(stored.hasPrefix("226"), "STOR: \(stored)")
            #expect(try Data(contentsOf: directory.path("ftp-root/hello.txt")) == payload, "./ftp-root/hello.txt")
            #expect(try ftp.names().contains("hello.txt"), "NLST after STOR")
            #expect(try ftp.command("QUIT").hasPrefix("221"))

            // The password was shown once, and the session's PASS was not logged.
            let occurrences = child.standardError.components(separatedBy: password).count - 1
            #expect(occurrences == 1, "the password appears \(occurrences) times on stderr")
            await Self.expectCleanStop(child)
        }
    }

    struct ServedURLCase: Sendable, CustomTestStringConvertible {
        var url: @Sendable (WorkingDirectory) -> String
        var label: String
        /// Where an upload lands on disk (relative to the working directory), or nil for memory.
        var onDisk: String?
        var testDescription: String { self.label }
    }

    static let servedURLs: [ServedURLCase] = [
        .init(url: { _ in "osfs://./served" }, label: "osfs://./served", onDisk: "served"),
        .init(url: { _ in "served" }, label: "a plain relative path", onDisk: "served"),
        .init(url: { "osfs://" + $0.path("served").path }, label: "osfs:// with an absolute path", onDisk: "served"),
        .init(url: { _ in "mem://" }, label: "mem://", onDisk: nil),
    ]

    @Test(
        "fstpyd with credentials.txt: an MD5 user serves a URL, with the --banner greeting",
        .timeLimit(.minutes(1)),
        arguments: servedURLs
    )
    func credentialsAndBanner(_ served: ServedURLCase) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", Self.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        let banner = "Custom banner ✓ for tests"
        try await Self.withDaemon(
            StartupErrorCase.standard(port, passive, ["--banner", banner, served.url(directory)]),
            in: directory,
            port: port
        ) { child in
            let ftp = try MiniFTP(port: port)
            #expect(ftp.greeting == "220 " + banner, "greeting: \(ftp.greeting)")
            let login = try ftp.login("dave", Self.davePassword)
            #expect(login.hasPrefix("230") && login.contains("Hello Dave."), "dave's login: \(login)")
            let payload = Data("served by \(served.label)".utf8)
            let stored = try ftp.upload("dave.txt", payload)
            #expect(stored.hasPrefix("226"), "STOR: \(stored)")
            #expect(try ftp.names().contains("dave.txt"), "NLST")
            if let onDisk = served.onDisk {
                #expect(
                    try Data(contentsOf: directory.path("\(onDisk)/dave.txt")) == payload,
                    "\(onDisk)/dave.txt on disk"
                )
            } else {
                let files = try FileManager.default.contentsOfDirectory(atPath: directory.path("served").path)
                #expect(files.isEmpty, "mem:// wrote to disk: \(files)")
            }
            let quit = try ftp.command("QUIT")
            #expect(quit.hasPrefix("221") && quit.contains("Goodbye Dave."), "dave's QUIT: \(quit)")
            await Self.expectCleanStop(child)
        }
    }

    struct PrecedenceCase: Sendable, CustomTestStringConvertible {
        var label: String
        var bannerFlag: String?
        var bannerVariable: String?
        var expected: String
        /// Give the port and passive range only as FSTPY_ variables (and the address as FSTPY_HOST).
        var portFromEnvironment: Bool
        var testDescription: String { self.label }
    }

    static let precedence: [PrecedenceCase] = [
        .init(
            label: "flag wins over FSTPY_BANNER",
            bannerFlag: "from the flag",
            bannerVariable: "from the variable",
            expected: "from the flag",
            portFromEnvironment: false
        ),
        .init(
            label: "FSTPY_BANNER alone, port from FSTPY_PORT",
            bannerFlag: nil,
            bannerVariable: "from the variable",
            expected: "from the variable",
            portFromEnvironment: true
        ),
        .init(
            label: "the default banner",
            bannerFlag: nil,
            bannerVariable: nil,
            expected: "FsTPy FTP server ready.",
            portFromEnvironment: false
        ),
    ]

    @Test(
        "fstpyd flags win over FSTPY_ variables; variables work alone",
        .timeLimit(.minutes(1)),
        arguments: precedence
    )
    func flagsAndVariables(_ precedence: PrecedenceCase) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", Self.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        var environment: [String: String] = [:]
        var arguments: [String]
        if precedence.portFromEnvironment {
            environment = [
                "FSTPY_HOST": "127.0.0.1", "FSTPY_PORT": "\(port)", "FSTPY_PASSIVE_LOWER": "\(passive)",
                "FSTPY_PASSIVE_UPPER": "\(passive)",
            ]
            arguments = []
        } else {
            // A port variable that the flag must override: the daemon must not listen there.
            environment = ["FSTPY_PORT": "\(try Loopback.freePort())", "FSTPY_HOST": "::1"]
            arguments = StartupErrorCase.standard(port, passive, [])
        }
        if let variable = precedence.bannerVariable { environment["FSTPY_BANNER"] = variable }
        if let flag = precedence.bannerFlag { arguments += ["--banner", flag] }
        arguments.append("osfs://./served")
        try await Self.withDaemon(arguments, environment: environment, in: directory, port: port) { child in
            let ftp = try MiniFTP(port: port)
            #expect(ftp.greeting == "220 " + precedence.expected, "greeting: \(ftp.greeting)")
            #expect(try ftp.login("dave", Self.davePassword).hasPrefix("230"))
            _ = try ftp.command("QUIT")
            await Self.expectCleanStop(child, signal: SIGINT)
        }
    }

    @Test("fstpyd --plain-passwords reads clear passwords; permissions from the file apply", .timeLimit(.minutes(1)))
    func plainPasswords() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served/pub")
        try directory.write("served/pub/file.txt", "public\n")
        try directory.write("users.txt", "erin;erin-clear-pw;/pub;elr;;Bye Erin.\n")
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await Self.withDaemon(
            StartupErrorCase.standard(
                port,
                passive,
                ["--plain-passwords", "--credentials", "users.txt", "osfs://./served"]
            ),
            in: directory,
            port: port
        ) { child in
            let ftp = try MiniFTP(port: port)
            #expect(try ftp.login("erin", "erin-clear-pw").hasPrefix("230"), "erin's clear password")
            #expect(try ftp.command("PWD").contains("\"/\""), "erin is jailed in /pub and sees it as /")
            #expect(try ftp.names() == ["file.txt"], "erin's listing")
            let refused = try ftp.upload("nope.txt", Data("x".utf8))
            #expect(refused.hasPrefix("550"), "erin (elr) storing: \(refused)")
            #expect(!FileManager.default.fileExists(atPath: directory.path("served/pub/nope.txt").path))
            let quit = try ftp.command("QUIT")
            #expect(quit.hasPrefix("221") && quit.contains("Bye Erin."), "QUIT: \(quit)")

            // The MD5 of the password is not accepted as the password in plain mode, nor the reverse.
            let other = try MiniFTP(port: port)
            #expect(try other.login("erin", "wrong").hasPrefix("530"))
            await Self.expectCleanStop(child)
        }
    }

    @Test("fstpyd SIGTERM with an open session: the client gets 421, the daemon exits 0", .timeLimit(.minutes(1)))
    func signalWithOpenSession() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", Self.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await Self.withDaemon(
            StartupErrorCase.standard(port, passive, ["osfs://./served"]),
            in: directory,
            port: port
        ) { child in
            let ftp = try MiniFTP(port: port)
            #expect(try ftp.login("dave", Self.davePassword).hasPrefix("230"))
            child.signal(SIGTERM)
            let goodbye = try ftp.readReply()
            #expect(goodbye.hasPrefix("421"), "an open session at SIGTERM: \(goodbye)")
            #expect(try ftp.readReply() == "", "the session should be closed after the 421")
            let status = await child.waitForExit(timeout: .seconds(10))
            #expect(
                status == 0,
                "exit status after SIGTERM with a session open: \(String(describing: status)): \(child.summary)"
            )
            #expect(!Loopback.isListening(port: port), "still listening after exit")
        }
    }

    @Test("fstpyd --max-connections-per-ip is enforced with 421", .timeLimit(.minutes(1)))
    func connectionLimitFlag() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", Self.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await Self.withDaemon(
            StartupErrorCase.standard(port, passive, ["--max-connections-per-ip", "2", "osfs://./served"]),
            in: directory,
            port: port
        ) { child in
            // The readiness probe's connection may still be counted for a moment: retry until two sessions fit.
            var sessions: [MiniFTP] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while sessions.count < 2 {
                let session = try MiniFTP(port: port)
                if session.greeting.hasPrefix("220") {
                    sessions.append(session)
                } else if ContinuousClock.now > deadline {
                    Issue.record("two sessions never fit under --max-connections-per-ip 2: \(session.greeting)")
                    return
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let third = try MiniFTP(port: port)
            #expect(third.greeting.hasPrefix("421"), "a third session from one address: \(third.greeting)")
            // The two sessions stay open until here.
            for session in sessions { #expect(try session.command("NOOP").hasPrefix("200")) }
            await Self.expectCleanStop(child)
        }
    }
}
