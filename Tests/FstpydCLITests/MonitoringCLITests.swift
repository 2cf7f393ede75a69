import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// fstpyd's --pubport, --webhook-url, --metrics-address and --xferlog (and their FSTPY_ variables), driven as an
/// administrator would: a real pyzmq subscriber, a real HTTP receiver, a scrape of /metrics, the log file.
@Suite("fstpyd events, metrics and xferlog")
struct MonitoringCLITests {
    /// Tests/FTPInteropTests/Clients, where the Python clients live.
    static let clients = Fstpyd.packageRoot.appendingPathComponent("Tests/FTPInteropTests/Clients")

    @Test("fstpyd --help names the monitoring flags and their FSTPY_ variables")
    func help() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        let result = try await runFstpyd(["--help"], in: directory)
        #expect(result.status == 0)
        let text = result.stdout + result.stderr
        for word in [
            "--pubport", "--webhook-url", "--metrics-address", "--xferlog", "FSTPY_PUBPORT", "FSTPY_WEBHOOK_URL",
            "FSTPY_METRICS_ADDRESS", "FSTPY_XFERLOG",
        ] {
            #expect(text.contains(word), "--help lacks \(word)")
        }
    }

    struct BadValue: Sendable, CustomTestStringConvertible {
        var label: String
        var arguments: [String]
        var environment: [String: String] = [:]
        var mentions: String
        var testDescription: String { self.label }
    }

    static let badValues: [BadValue] = [
        .init(label: "--pubport out of range", arguments: ["--pubport", "70000"], mentions: "--pubport"),
        .init(label: "FSTPY_PUBPORT not a number", arguments: [], environment: ["FSTPY_PUBPORT": "x"], mentions: "x"),
        .init(label: "--webhook-url not http", arguments: ["--webhook-url", "ftp://h/x"], mentions: "ftp://h/x"),
        .init(label: "--webhook-url without host", arguments: ["--webhook-url", "http://"], mentions: "--webhook-url"),
        .init(
            label: "--metrics-address without a port",
            arguments: ["--metrics-address", "127.0.0.1"],
            mentions: "HOST:PORT"
        ),
        .init(
            label: "FSTPY_METRICS_ADDRESS unbracketed IPv6",
            arguments: [],
            environment: ["FSTPY_METRICS_ADDRESS": "::1:9100"],
            mentions: "::1:9100"
        ),
        .init(
            label: "--xferlog in a missing directory",
            arguments: ["--xferlog", "/nonexistent-dir/xferlog"],
            mentions: "/nonexistent-dir/xferlog"
        ),
    ]

    @Test("fstpyd refuses a bad monitoring value with one line on stderr", arguments: badValues)
    func badValue(_ bad: BadValue) async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        let port = try Loopback.freePort()
        let result = try await runFstpyd(
            ["--address", "127.0.0.1", "--port", "\(port)"] + bad.arguments,
            environment: bad.environment,
            in: directory
        )
        let lines = result.stderr.split(separator: "\n")
        #expect(result.status == 1, "status \(String(describing: result.status)): \(result.stderr)")
        #expect(lines.count == 1 && lines[0].hasPrefix("fstpyd: error: "), "\(result.stderr)")
        #expect(result.stderr.contains(bad.mentions), "the error should mention \(bad.mentions): \(result.stderr)")
    }

    @Test("fstpyd refuses a --pubport or --metrics-address already in use, in one line")
    func portsInUse() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        let held = try HeldPort()
        defer { held.close() }
        for (flag, value) in [("--pubport", "\(held.port)"), ("--metrics-address", "127.0.0.1:\(held.port)")] {
            let port = try Loopback.freePort()
            let result = try await runFstpyd(
                ["--address", "127.0.0.1", "--port", "\(port)", flag, value],
                in: directory
            )
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("fstpyd: error: ") }
            #expect(result.status == 1, "\(flag) in use: \(result.stderr)")
            #expect(lines.count == 1 && lines[0].contains("\(held.port)"), "\(flag) in use: \(result.stderr)")
        }
    }

    /// Runs a child to completion (polling), returning its stdout; records a failure on a non-zero status.
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        timeout: Duration = .seconds(120),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        let child = try ChildProcess(
            executable: executable,
            arguments: arguments,
            environment: Fstpyd.environment(environment),
            currentDirectory: directory.url
        )
        defer { child.kill() }
        let status = await child.waitForExit(timeout: timeout)
        #expect(status == 0, "\(arguments.joined(separator: " ")): \(child.summary)", sourceLocation: sourceLocation)
        return child.standardOutput
    }

    @Test(
        "fstpyd with --pubport, --webhook-url, --metrics-address and --xferlog: one upload reaches pyzmq, the webhook, the metrics and the log",
        .timeLimit(.minutes(10))
    )
    func everything() async throws {
        let directory = try WorkingDirectory()
        defer { directory.remove() }
        try directory.write("credentials.txt", FstpydCLITests.credentials)
        try directory.makeDirectory("served")
        let python = try await Self.run(
            "/bin/bash",
            [Fstpyd.packageRoot.appendingPathComponent("scripts/python-venv").path],
            timeout: .seconds(600)
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(!python.isEmpty, "scripts/python-venv gave no python")

        // The webhook receiver (Python's http.server).
        let portFile = directory.path("receiver-port").path
        let records = directory.path("receiver-records").path
        let receiver = try ChildProcess(
            executable: "/usr/bin/env",
            arguments: [
                "python3", Self.clients.appendingPathComponent("http_receiver.py").path, portFile, records,
                directory.path("receiver-stop").path,
            ],
            environment: Fstpyd.environment([:]),
            currentDirectory: directory.url
        )
        defer { receiver.kill() }
        let started = await receiver.wait(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: portFile) }
        try #require(started, "http_receiver.py did not start: \(receiver.summary)")
        let webhookPort = try #require(Int(try String(contentsOfFile: portFile, encoding: .utf8)))

        let port = try Loopback.freePort()
        let passive = try Loopback.freePort()
        let pubport = try Loopback.freePort()
        let metricsPort = try Loopback.freePort()
        let xferlog = directory.path("transfers.log").path
        let decoy = directory.path("decoy.log").path
        let upload = "/chan/report 1.txt"
        try await FstpydCLITests.withDaemon(
            FstpydCLITests.StartupErrorCase.standard(
                port,
                passive,
                [
                    "--metrics-address", "127.0.0.1:\(metricsPort)", "--xferlog", xferlog, "osfs://./served",
                ]
            ),
            environment: [
                "FSTPY_PUBPORT": "\(pubport)",
                "FSTPY_WEBHOOK_URL": "http://127.0.0.1:\(webhookPort)/hook",
                // The flag wins: nothing may be written here.
                "FSTPY_XFERLOG": decoy,
            ],
            in: directory,
            port: port
        ) { child in
            let output = try await Self.run(
                python,
                [Self.clients.appendingPathComponent("zmq_subscriber.py").path, "warm", "tcp://127.0.0.1:\(pubport)"],
                environment: [
                    "FTP_PORT": "\(port)",
                    "FTP_USER": "dave",
                    "FTP_PASSWORD": FstpydCLITests.davePassword,
                    "FTP_UPLOADS": upload,
                    "METRICS_URL": "http://127.0.0.1:\(metricsPort)/metrics",
                ]
            )
            let result = try #require(
                try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                "zmq_subscriber.py printed: \(output)"
            )
            let warm = try #require(result["warm"] as? Int)
            let messages = try #require(result["messages"] as? [String])
            #expect(messages.contains("chan \(upload)"), "ZeroMQ messages: \(messages)")
            #expect(messages.allSatisfy { $0.hasPrefix("warm /warm/") || $0 == "chan \(upload)" }, "\(messages)")

            // Scraped while dave's session was open.
            let metrics = try #require(result["metrics"] as? String)
            let values = Self.metrics(metrics)
            #expect(values["fstpy_sessions"] == 1, "\(metrics)")
            #expect(values[#"fstpy_logins_total{result="ok"}"#] == 1)
            #expect(values[#"fstpy_transfers_total{direction="in",result="completed"}"#] == Double(warm + 1))
            #expect(
                values[#"fstpy_transfer_duration_seconds_count{direction="in",result="completed"}"#] == Double(warm + 1)
            )
            #expect((values[#"fstpy_transfer_bytes_total{direction="in"}"#] ?? 0) > 0)
            #expect(!metrics.contains(FstpydCLITests.davePassword))

            // Anything but /metrics.
            #expect(Self.httpStatus(port: metricsPort, request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 404)
            #expect(
                Self.httpStatus(
                    port: metricsPort,
                    request: "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                ) == 405
            )

            await FstpydCLITests.expectCleanStop(child)
            #expect(!child.standardError.contains(FstpydCLITests.davePassword), "the password is in the log")

            // The transfer log: warm-up uploads and the upload, each on one parsable line.
            let log = try String(contentsOfFile: xferlog, encoding: .utf8)
            let lines = log.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
            #expect(lines.count == warm + 1, "\(log)")
            #expect(lines.allSatisfy { $0.count == 18 && $0[13] == "dave" && $0[17] == "c" && $0[11] == "i" }, "\(log)")
            #expect(lines.last?[8] == "/chan/report_1.txt", "the space written as _: \(log)")
            #expect(!FileManager.default.fileExists(atPath: decoy), "FSTPY_XFERLOG was used despite --xferlog")
        }

        // The webhook: every event, JSON, no password.
        _ = FileManager.default.createFile(atPath: directory.path("receiver-stop").path, contents: nil)
        _ = await receiver.waitForExit(timeout: .seconds(10))
        let posted = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n")
        let bodies = try posted.map { line -> [String: Any] in
            let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let body = try #require(record["body"] as? String)
            #expect(!body.contains(FstpydCLITests.davePassword))
            return try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        }
        let events = bodies.compactMap { $0["event"] as? String }
        #expect(Set(events) == ["connect", "login", "file_received", "logout", "disconnect"], "\(events)")
        let received = bodies.first { $0["path"] as? String == upload }
        #expect(received?["user"] as? String == "dave")
        #expect(received?["event"] as? String == "file_received")
        #expect(received?["backend_path"] as? String == upload)
    }

    /// `name{labels}` → value.
    static func metrics(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            values[String(line[..<space])] = value
        }
        return values
    }

    /// The status code of a raw HTTP/1.1 request to 127.0.0.1:port.
    static func httpStatus(port: Int, request: String) -> Int? {
        guard let fd = try? Loopback.connect(port: port) else { return nil }
        defer { close(fd) }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 12 else { return nil }
        let line = String(decoding: buffer[0..<count], as: UTF8.self)
        return Int(line.dropFirst("HTTP/1.1 ".count).prefix(3))
    }
}
