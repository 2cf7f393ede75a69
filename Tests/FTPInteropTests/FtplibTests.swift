import FTPServer
import Foundation
import Testing

/// Python's ftplib against the real server: one scenario of `Clients/ftplib_client.py` per test case, each on its
/// own freshly served directory.
@Suite("Python ftplib", .serialized)
struct FtplibTests {
    /// The driver script. It lives in a dot directory because SwiftPM ignores those: a `.py` file anywhere else in
    /// the target is reported as an unhandled file (a warning) unless Package.swift excludes it.
    static let script = Interop.targetDirectory().appendingPathComponent("Clients/ftplib_client.py").path

    /// Round trips: 0 B, 1 B and 64 MiB, up and down, SHA-256 compared, passive and active.
    static let roundTrips: [String] = [0, 1, 64 << 20].flatMap { size in
        ["pasv", "active"].map { "roundtrip-\(size)-\($0)" }
    }

    static let scenarios: [String] =
        roundTrips + [
            "ascii",
            "rest-download",
            "rest-upload",
            "rename-delete",
            "mkdir-rmdir",
            "mlsd-list",
            "unicode-names",
            "size-mdtm-mfmt-chmod",
            "feat-stat-help",
            "read-only",
            "traversal",
            "symlinks",
            "login",
            "sequence-errors",
            "hostile-input",
            "abort-retr",
            "stor-abort-atomic",
            "disconnect-midtransfer",
            "port-refused",
            "epsv-all",
            "passive-ports",
            "stou",
            "send-before-reply",
            "concurrent",
            "long-names",
            "atomic-races",
            "large-directory",
        ]

    @Test(
        "ftplib scenario",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3)),
        arguments: scenarios
    )
    func scenario(_ name: String) async throws {
        try await Self.run(name)
    }

    @Test(
        "ftplib: a third connection from one address over a limit of 2 gets 421",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func connectionLimit() async throws {
        try await Self.run("connection-limit") { $0.limits.maximumConnectionsPerAddress = 2 }
    }

    @Test(
        "ftplib: an idle session gets 421 and is closed",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func idleTimeout() async throws {
        try await Self.run("idle-timeout") { $0.timeouts.idle = .seconds(1) }
    }

    @Test(
        "ftplib: a transfer slower than the idle timeout is not cut",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func idleDuringTransfer() async throws {
        try await Self.run("idle-during-transfer") { $0.timeouts.idle = .seconds(1) }
    }

    @Test(
        "ftplib: a client that never opens the data connection gets 425",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func dataConnectionTimeout() async throws {
        try await Self.run("data-timeout") { $0.timeouts.dataConnection = .seconds(1) }
    }

    @Test(
        "ftplib over IPv6 (::1): EPSV and EPRT round trips",
        .enabled(if: (Interop.available("python3") && Interop.ipv6LoopbackAvailable) || Interop.required),
        .timeLimit(.minutes(2))
    )
    func ipv6() async throws {
        guard Interop.ipv6LoopbackAvailable else {
            Issue.record("::1 is not usable on this machine, and interop tests are required (CI/FSTPY_REQUIRE_INTEROP)")
            return
        }
        try await Self.run("ipv6", host: "::1")
    }

    static func run(
        _ name: String,
        host: String = Fixture.host,
        configure: @escaping @Sendable (inout FTPService.Configuration) -> Void = { _ in }
    ) async throws {
        let python = try Interop.tool("python3")
        try await Fixture.withServer(host: host, configure: configure) { fixture, port in
            let result = try await ProcessRunner.run(
                python,
                [Self.script, name, "\(port)"],
                environment: fixture.environment(port: port, host: host),
                timeout: .seconds(150)
            )
            #expect(result.status == 0 && !result.timedOut, "ftplib scenario \(name): \(result.summary)")
        }
    }
}
