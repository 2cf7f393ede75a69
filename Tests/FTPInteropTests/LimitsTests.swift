import FTPServer
import Foundation
import Logging
import Testing

/// Each limit and timeout tripped by a real client (Python's ftplib and raw sockets, `Clients/limits_client.py`)
/// against the real server configured with small values, so that every test takes seconds.
@Suite("Limits and timeouts with Python ftplib", .serialized)
struct LimitsTests {
    static let script = Interop.targetDirectory().appendingPathComponent("Clients/limits_client.py").path

    @Test(
        "ftplib: repeated failed logins ban the address with 421, and the ban expires",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func ban() async throws {
        let logs = try await Self.run("ban") {
            $0.loginBan = .init(maximumFailures: 3, window: .seconds(30), duration: .seconds(2))
            $0.limits.maximumLoginAttempts = 2
            $0.timeouts.failedLoginDelay = .milliseconds(10)
        }
        #expect(
            !logs.records("address banned after repeated failed logins").isEmpty,
            "no log line for the ban:\n\(logs.text)"
        )
        #expect(
            !logs.records("connection refused", matching: ["ftp.reply": "421"]).isEmpty,
            "no log line for the refused connection:\n\(logs.text)"
        )
        #expect(!logs.records("login refused: address banned").isEmpty, "no log line for the refused PASS")
    }

    @Test(
        "ftplib: the pause after a failed login doubles up to its cap, the same for a wrong user and password",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func loginDelay() async throws {
        try await Self.run("login-delay") {
            $0.timeouts.failedLoginDelay = .milliseconds(300)
            $0.timeouts.maximumFailedLoginDelay = .milliseconds(800)
            $0.limits.maximumLoginAttempts = 10
            $0.loginBan = nil
        }
    }

    @Test(
        "ftplib: a download nobody reads is cut after the stalled-transfer timeout with 426",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func stalledDownload() async throws {
        let logs = try await Self.run("stall-download") { $0.timeouts.stalledTransfer = .seconds(1) }
        #expect(
            !logs.records("transfer stalled", matching: ["ftp.verb": "RETR", "ftp.result": "stalled"]).isEmpty,
            "no log line for the stalled transfer:\n\(logs.text)"
        )
    }

    @Test(
        "ftplib: an upload that stops sending is cut with 426 and leaves no file",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func stalledUpload() async throws {
        try await Self.run("stall-upload") { $0.timeouts.stalledTransfer = .seconds(1) }
    }

    @Test(
        "ftplib: a slow but moving sendfile download is not taken for a stalled one",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func slowNotStalled() async throws {
        try await Self.run("slow-not-stalled") { $0.timeouts.stalledTransfer = .seconds(1) }
    }

    @Test(
        "ftplib: a client that never reads its replies is disconnected after the reply timeout",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func replyTimeout() async throws {
        let logs = try await Self.run("reply-timeout") { $0.timeouts.replyWrite = .seconds(1) }
        #expect(
            logs.all.contains { $0.message.hasPrefix("reply write timed out") },
            "no log line for the reply timeout:\n\(logs.text.suffix(3000))"
        )
    }

    @Test(
        "ftplib: downloads are held to --max-download-rate (sendfile in paced regions)",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func downloadRate() async throws {
        // A stall timeout shorter than the transfer: pacing is not a stall.
        try await Self.run("rate-download") {
            $0.bandwidth.maximumDownloadRate = 2 << 20
            $0.timeouts.stalledTransfer = .seconds(1)
        }
    }

    @Test(
        "ftplib: ASCII downloads are held to --max-download-rate too",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func asciiDownloadRate() async throws {
        try await Self.run("rate-download-ascii") {
            $0.bandwidth.maximumDownloadRate = 128 << 10
            // Still shorter than the transfer (about 3 s), with room for a debug build's ASCII conversion under load.
            $0.timeouts.stalledTransfer = .seconds(2)
        }
    }

    @Test(
        "ftplib: uploads are held to --max-upload-rate",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func uploadRate() async throws {
        try await Self.run("rate-upload") { $0.bandwidth.maximumUploadRate = 2 << 20 }
    }

    @Test(
        "ftplib: a user's sessions share the per-user download rate; another user has their own",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func perUserRate() async throws {
        try await Self.run("rate-per-user") { $0.bandwidth.userMaximumDownloadRate = 2 << 20 }
    }

    @Test(
        "ftplib: one log line per command and per transfer, with user and client; never a password",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func logLines() async throws {
        let logs = try await Self.run("log-lines")
        let text = logs.text
        for secret in [Fixture.alicePassword, "wrong-secret-5", "acct-secret-4"] {
            #expect(!text.contains(secret), "a secret appears in the logs: \(secret)")
        }
        let client = #/^127\.0\.0\.1:\d+$/#
        let retr = logs.records("command", matching: ["ftp.command": "RETR", "ftp.reply": "226", "ftp.user": "alice"])
        #expect(retr.count == 1, "one command line for RETR:\n\(text)")
        #expect(retr.first?.metadata["ftp.argument"] == "pub/readme.txt", "RETR's argument: \(retr)")
        #expect(retr.first.map { $0.metadata["ftp.client"]?.wholeMatch(of: client) != nil } == true, "\(retr)")
        #expect(retr.first?.level == .info, "command lines are info by default")
        let pass = logs.records("command", matching: ["ftp.command": "PASS"])
        #expect(pass.count == 2 && pass.allSatisfy { $0.metadata["ftp.argument"] == "<redacted>" }, "\(pass)")
        #expect(pass.map { $0.metadata["ftp.reply"] ?? "" }.sorted() == ["230", "530"], "PASS replies: \(pass)")
        let acct = logs.records("command", matching: ["ftp.command": "ACCT"])
        #expect(acct.count == 1 && acct.first?.metadata["ftp.argument"] == "<redacted>", "\(acct)")
        let transfer = logs.records(
            "transfer complete",
            matching: [
                "ftp.verb": "RETR", "ftp.path": "/pub/readme.txt", "ftp.result": "ok", "ftp.user": "alice",
                "ftp.bytes": "\(Fixture.readmeText.utf8.count)",
            ]
        )
        #expect(transfer.count == 1, "one transfer line for RETR:\n\(text)")
        #expect(transfer.first?.metadata["ftp.duration"]?.hasSuffix("s") == true, "a duration: \(transfer)")
        #expect(transfer.first.map { $0.metadata["ftp.client"]?.wholeMatch(of: client) != nil } == true)
        let upload = logs.records(
            "transfer complete",
            matching: ["ftp.verb": "STOR", "ftp.path": "/logged-upload.txt", "ftp.bytes": "5", "ftp.result": "ok"]
        )
        #expect(upload.count == 1, "one transfer line for STOR:\n\(text)")
        let failed = logs.records("login failed", matching: ["ftp.user": "alice"])
        #expect(failed.count == 1, "one line for the failed login:\n\(text)")
        let quit = logs.records("command", matching: ["ftp.command": "QUIT", "ftp.reply": "221"])
        #expect(quit.count == 2, "QUIT lines: \(quit)")
    }

    /// Serves the fixture with `configure`'s limits, runs the scenario, and returns what the server logged.
    @discardableResult
    static func run(
        _ name: String,
        configure: @escaping @Sendable (inout FTPService.Configuration) -> Void = { _ in }
    ) async throws -> LogCapture {
        let python = try Interop.tool("python3")
        let logs = LogCapture()
        try await Fixture.withServer(logger: logs.logger(), configure: configure) { fixture, port in
            let result = try await ProcessRunner.run(
                python,
                [Self.script, name, "\(port)"],
                environment: fixture.environment(port: port),
                timeout: .seconds(90)
            )
            #expect(result.status == 0 && !result.timedOut, "limits scenario \(name): \(result.summary)")
            for line in result.standardOutput.split(separator: "\n") where line.hasPrefix("measured: ") {
                print("limits scenario \(name): \(line)")
            }
        }
        return logs
    }
}
