import FTPServer
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The daemon as an administrator runs it: graceful shutdown with a transfer in flight, the shutdown deadline,
/// SIGHUP reloading the users, the configuration file and its precedence, and `--check-config`.
@Suite("fstpyd operations")
struct OperationsTests {
    typealias CLI = FstpydCLITests

    /// `size` bytes of a pattern that shows misplaced bytes.
    static func payload(_ size: Int) -> Data {
        Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) })
    }

    @Test(
        "fstpyd SIGTERM mid-RETR: the transfer finishes with 226, then 421; idle sessions get 421 at once; exit 0",
        .timeLimit(.minutes(1))
    )
    func shutdownLetsATransferFinish() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        let payload = Self.payload(3 << 20)
        try payload.write(to: directory.path("served/big.bin"))
        try directory.write("credentials.txt", CLI.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        // 3 MiB at 1 MiB/s: the transfer is still running when the signal comes.
        try await CLI.withDaemon(
            CLI.StartupErrorCase.standard(port, passive, ["--max-download-rate", "1M", "osfs://./served"]),
            in: directory,
            port: port
        ) { child in
            let idle = try MiniFTP(port: port)
            #expect(try idle.login("dave", CLI.davePassword).hasPrefix("230"))
            let busy = try MiniFTP(port: port)
            #expect(try busy.login("dave", CLI.davePassword).hasPrefix("230"))
            let download = try busy.startDownload("big.bin")
            try download.read(atLeast: 256 << 10)

            let signalled = ContinuousClock.now
            child.signal(SIGTERM)
            let idleGoodbye = try idle.readReply()
            #expect(idleGoodbye.hasPrefix("421"), "the idle session at SIGTERM: \(idleGoodbye)")
            #expect(ContinuousClock.now - signalled < .seconds(2), "the idle session waited for the transfer")
            #expect(try idle.readReply() == "", "the idle session is closed after its 421")
            #expect(!Loopback.isListening(port: port), "still accepting connections after SIGTERM")

            try download.readToEnd()
            #expect(download.received == payload, "the download in flight: \(download.received.count) bytes")
            let final = try busy.readReply()
            #expect(final.hasPrefix("226"), "the transfer in flight ends normally: \(final)")
            let goodbye = try busy.readReply()
            #expect(goodbye.hasPrefix("421"), "then the session is told the server stops: \(goodbye)")
            #expect(try busy.readReply() == "", "and closed")

            let status = await child.waitForExit(timeout: .seconds(10))
            #expect(
                status == 0,
                "exit status after a graceful shutdown: \(String(describing: status)): \(child.summary)"
            )
            #expect(child.standardError.contains("shutting down"), "no shutdown log line: \(child.summary)")
        }
    }

    @Test(
        "fstpyd --shutdown-timeout: a transfer still running at the deadline is aborted with 426, then 421",
        .timeLimit(.minutes(1))
    )
    func shutdownDeadlineAbortsTransfers() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try Self.payload(4 << 20).write(to: directory.path("served/big.bin"))
        try directory.write("credentials.txt", CLI.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        // 4 MiB at 256 KiB/s would take 16 s; the deadline is 1 s.
        try await CLI.withDaemon(
            CLI.StartupErrorCase.standard(
                port,
                passive,
                ["--max-download-rate", "256K", "--shutdown-timeout", "1s", "osfs://./served"]
            ),
            in: directory,
            port: port
        ) { child in
            let busy = try MiniFTP(port: port)
            #expect(try busy.login("dave", CLI.davePassword).hasPrefix("230"))
            let download = try busy.startDownload("big.bin")
            try download.read(atLeast: 64 << 10)
            let signalled = ContinuousClock.now
            child.signal(SIGTERM)
            try download.readToEnd()
            #expect(download.received.count < 4 << 20, "the whole file arrived: the deadline did not cut it")
            let final = try busy.readReply()
            #expect(final.hasPrefix("426"), "a transfer cut by the shutdown deadline: \(final)")
            let goodbye = try busy.readReply()
            #expect(goodbye.hasPrefix("421"), "after the 426: \(goodbye)")
            let status = await child.waitForExit(timeout: .seconds(10))
            let took = ContinuousClock.now - signalled
            #expect(status == 0, "exit status: \(String(describing: status)): \(child.summary)")
            #expect(took >= .milliseconds(900) && took < .seconds(6), "stopped \(took) after SIGTERM (deadline 1 s)")
        }
    }

    @Test(
        "fstpyd SIGHUP reloads credentials.txt: a new user logs in, open sessions stay, a bad file keeps the users",
        .timeLimit(.minutes(1))
    )
    func reloadOnSIGHUP() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", CLI.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        try await CLI.withDaemon(
            CLI.StartupErrorCase.standard(port, passive, ["osfs://./served"]),
            in: directory,
            port: port
        ) { child in
            let session = try MiniFTP(port: port)
            #expect(try session.login("dave", CLI.davePassword).hasPrefix("230"))
            #expect(try MiniFTP(port: port).login("erin", "erin-pass").hasPrefix("530"), "erin before the reload")

            let erin = "erin;\(MD5Authorizer.digest(of: "erin-pass"));/;elr\n"
            try directory.write("credentials.txt", CLI.credentials + erin)
            child.signal(SIGHUP)
            let reloaded = await child.wait(timeout: .seconds(10)) {
                child.standardError.components(separatedBy: "reloaded").count > 1
            }
            #expect(reloaded, "no reload line after SIGHUP: \(child.summary)")
            #expect(try MiniFTP(port: port).login("erin", "erin-pass").hasPrefix("230"), "erin after the reload")
            #expect(try session.command("NOOP").hasPrefix("200"), "the session open across the reload")
            #expect(try session.upload("after-reload.txt", Data("still here".utf8)).hasPrefix("226"))

            try directory.write("credentials.txt", "this line is not a user\n")
            child.signal(SIGHUP)
            let refused = await child.wait(timeout: .seconds(10)) { child.standardError.contains("reload failed") }
            #expect(refused, "no error line for a bad credentials file: \(child.summary)")
            #expect(child.isRunning, "a bad credentials file on SIGHUP stopped the daemon")
            #expect(try MiniFTP(port: port).login("erin", "erin-pass").hasPrefix("230"), "a bad file keeps the users")
            #expect(try MiniFTP(port: port).login("dave", CLI.davePassword).hasPrefix("230"))
            #expect(try session.command("NOOP").hasPrefix("200"))
            await CLI.expectCleanStop(child)
        }
    }

    struct ConfigCase: Sendable, CustomTestStringConvertible {
        var label: String
        var flag: String?
        var variable: String?
        var expectedBanner: String
        /// Name the file with FSTPY_CONFIG instead of --config.
        var fileFromEnvironment = false
        var testDescription: String { self.label }
    }

    static let configCases: [ConfigCase] = [
        .init(label: "the file alone (--config)", expectedBanner: "from the file"),
        .init(label: "the file alone (FSTPY_CONFIG)", expectedBanner: "from the file", fileFromEnvironment: true),
        .init(
            label: "a variable wins over the file",
            variable: "from the variable",
            expectedBanner: "from the variable"
        ),
        .init(
            label: "a flag wins over the variable and the file",
            flag: "from the flag",
            variable: "from the variable",
            expectedBanner: "from the flag"
        ),
    ]

    @Test(
        "fstpyd configuration file: every setting, with flag > variable > file > default",
        .timeLimit(.minutes(1)),
        arguments: configCases
    )
    func configurationFile(_ config: ConfigCase) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("users.txt", CLI.credentials)
        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        // Port, address, URL, credentials and a limit come only from the file.
        try directory.write(
            "fstpyd.json",
            """
            {
              "fs-url": "osfs://./served", "address": "127.0.0.1", "port": \(port),
              "passive-ports-lower": \(passive), "passive-ports-upper": "\(passive)",
              "credentials": "users.txt", "banner": "from the file", "max-connections-per-ip": 2,
              "idle-timeout": "30s", "max-download-rate": "10M"
            }
            """
        )
        var arguments: [String] = []
        var environment: [String: String] = [:]
        if config.fileFromEnvironment {
            environment["FSTPY_CONFIG"] = "fstpyd.json"
        } else {
            arguments += ["--config", "fstpyd.json"]
        }
        if let flag = config.flag { arguments += ["--banner", flag] }
        if let variable = config.variable { environment["FSTPY_BANNER"] = variable }
        try await CLI.withDaemon(arguments, environment: environment, in: directory, port: port) { child in
            let ftp = try MiniFTP(port: port)
            #expect(ftp.greeting == "220 " + config.expectedBanner, "greeting: \(ftp.greeting)")
            #expect(try ftp.login("dave", CLI.davePassword).hasPrefix("230"), "dave from the file's users.txt")
            // max-connections-per-ip 2 from the file: with the readiness probe gone, a third is refused.
            var sessions = [ftp]
            let deadline = ContinuousClock.now + .seconds(10)
            while sessions.count < 2 {
                let next = try MiniFTP(port: port)
                if next.greeting.hasPrefix("220") {
                    sessions.append(next)
                } else if ContinuousClock.now > deadline {
                    Issue.record("a second session never fit: \(next.greeting)")
                    return
                }
            }
            #expect(try MiniFTP(port: port).greeting.hasPrefix("421"), "max-connections-per-ip from the file")
            await CLI.expectCleanStop(child)
        }
    }

    @Test("fstpyd --check-config prints the effective settings with their sources and exits 0", .timeLimit(.minutes(1)))
    func checkConfig() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write("credentials.txt", CLI.credentials)
        try directory.write(
            "fstpyd.json",
            #"{"port": 2999, "banner": "from the file", "max-download-rate": "10M", "idle-timeout": 120}"#
        )
        let result = try await runFstpyd(
            ["--check-config", "--config", "fstpyd.json", "--port", "3001", "--ban-failures", "0", "served"],
            environment: ["FSTPY_SHUTDOWN_TIMEOUT": "5s", "FSTPY_BANNER": "from the variable"],
            in: directory
        )
        #expect(result.status == 0, "--check-config: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { String($0).replacing(#/ +/#, with: " ") }
        let expected = [
            "port = 3001 [flag]", "banner = from the variable [FSTPY_BANNER]", "max-download-rate = 10M [fstpyd.json]",
            "idle-timeout = 2m [fstpyd.json]", "shutdown-timeout = 5s [FSTPY_SHUTDOWN_TIMEOUT]",
            "ban-failures = 0 [flag]", "fs-url = served [flag]", "max-connections = 512 [default]",
            "credentials = credentials.txt [default]", "max-upload-rate = unlimited [default]",
            "data-receive-buffer = 4M [default]",
        ]
        for line in expected {
            #expect(lines.contains(line), "--check-config lacks '\(line)':\n\(result.stdout)")
        }
        #expect(lines.first?.contains("valid") == true, "first line: \(lines.first ?? "")")
        #expect(result.stdout.contains("1 user"), "the credentials file's users: \(result.stdout)")
        #expect(!Loopback.isListening(port: 3001), "--check-config must not serve")
    }

    struct BadConfigCase: Sendable, CustomTestStringConvertible {
        var label: String
        var file: String?
        var arguments: [String] = []
        var environment: [String: String] = [:]
        var credentials = true
        var mentions: [String]
        var testDescription: String { self.label }
    }

    static let badConfigs: [BadConfigCase] = [
        .init(label: "unknown key", file: #"{"prot": 21}"#, mentions: ["fstpyd.json", "prot"]),
        .init(label: "not JSON", file: #"{"port": 21,"#, mentions: ["fstpyd.json", "JSON"]),
        .init(label: "bad duration", file: #"{"idle-timeout": "soon"}"#, mentions: ["idle-timeout", "soon"]),
        .init(label: "port out of range", file: #"{"port": 99999}"#, mentions: ["port", "99999"]),
        .init(label: "a list", file: #"{"port": [21]}"#, mentions: ["port"]),
        .init(label: "missing file", file: nil, arguments: ["--config", "nope.json"], mentions: ["nope.json"]),
        .init(
            label: "bad rate in a variable",
            file: nil,
            environment: ["FSTPY_MAX_UPLOAD_RATE": "fast"],
            mentions: ["FSTPY_MAX_UPLOAD_RATE", "fast"]
        ),
        .init(
            label: "bad flag value",
            file: nil,
            arguments: ["--stalled-transfer-timeout", "0s"],
            mentions: ["--stalled-transfer-timeout"]
        ),
        .init(
            label: "data receive buffer too small",
            file: nil,
            arguments: ["--data-receive-buffer", "100"],
            mentions: ["--data-receive-buffer", "100"]
        ),
        .init(
            label: "data receive buffer not a size",
            file: nil,
            environment: ["FSTPY_DATA_RECEIVE_BUFFER": "big"],
            mentions: ["FSTPY_DATA_RECEIVE_BUFFER", "big"]
        ),
        .init(label: "missing credentials file", file: #"{"credentials": "absent.txt"}"#, mentions: ["absent.txt"]),
        .init(label: "unknown permission letter", file: nil, credentials: false, mentions: ["credentials.txt", "Z"]),
    ]

    @Test("fstpyd --check-config refuses a bad configuration in one line, exit 1", arguments: badConfigs)
    func checkConfigRefuses(_ bad: BadConfigCase) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.makeDirectory("served")
        try directory.write(
            "credentials.txt",
            bad.credentials ? CLI.credentials : "dave;\(CLI.daveMD5);/;elrZ\n"
        )
        var arguments = ["--check-config"] + bad.arguments
        if let file = bad.file {
            try directory.write("fstpyd.json", file)
            arguments += ["--config", "fstpyd.json"]
        }
        let result = try await runFstpyd(arguments + ["served"], environment: bad.environment, in: directory)
        let lines = result.stderr.split(separator: "\n")
        #expect(result.status == 1, "exit status \(String(describing: result.status)): \(result.stderr)")
        #expect(lines.count == 1 && lines.first?.hasPrefix("fstpyd: error: ") == true, "stderr: \(result.stderr)")
        for text in bad.mentions {
            #expect(lines.first?.contains(text) == true, "the error should mention '\(text)': \(result.stderr)")
        }
        #expect(result.stdout.isEmpty, "nothing printed on stdout for a bad configuration: \(result.stdout)")
    }

    @Test("fstpyd --help names every new flag and its FSTPY_ variable")
    func helpNamesEverySetting() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        let result = try await runFstpyd(["--help"], in: directory)
        #expect(result.status == 0)
        let text = result.stdout.replacing("\n", with: " ").replacing(#/ +/#, with: " ")
        let flags = [
            "--config", "--check-config", "--max-line-length", "--max-login-attempts", "--idle-timeout",
            "--data-timeout", "--stalled-transfer-timeout", "--reply-timeout", "--failed-login-delay",
            "--failed-login-delay-max", "--ban-failures", "--ban-window", "--ban-duration", "--max-download-rate",
            "--max-upload-rate", "--user-max-download-rate", "--user-max-upload-rate", "--shutdown-timeout",
            "--command-log-level", "--no-plain-passwords", "--data-receive-buffer",
        ]
        for flag in flags {
            #expect(text.contains(flag), "--help lacks \(flag)")
        }
        for variable in [
            "FSTPY_CONFIG", "FSTPY_IDLE_TIMEOUT", "FSTPY_MAX_DOWNLOAD_RATE", "FSTPY_SHUTDOWN_TIMEOUT",
            "FSTPY_BAN_FAILURES", "FSTPY_LOG_LEVEL", "FSTPY_FS_URL",
        ] {
            #expect(text.contains(variable), "--help lacks \(variable)")
        }
    }
}
