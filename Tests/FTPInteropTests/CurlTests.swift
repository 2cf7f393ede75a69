import Foundation
import Testing

/// curl against the real server: transfers in every data mode, resume, listings, quote commands, login failures.
@Suite("curl", .serialized)
struct CurlTests {
    /// How curl makes its data connections.
    enum Mode: String, Sendable, CaseIterable, CustomTestStringConvertible {
        /// EPSV (curl's default).
        case epsv
        /// PASV only.
        case pasv
        /// Active: EPRT, curl's first choice.
        case active
        /// Active with PORT only.
        case port

        var arguments: [String] {
            switch self {
            case .epsv: ["--ftp-pasv"]
            case .pasv: ["--ftp-pasv", "--disable-epsv"]
            case .active: ["--ftp-port", "-"]
            case .port: ["--ftp-port", "-", "--disable-eprt"]
            }
        }

        var testDescription: String { self.rawValue }
    }

    struct TransferCase: Sendable, CustomTestStringConvertible {
        var mode: Mode
        var size: Int
        var testDescription: String { "\(self.mode) \(self.size) B" }
    }

    /// 0 B, 1 B and 64 MiB in EPSV, PASV and active (EPRT) mode; PORT-only with 1 MiB.
    static let transferCases: [TransferCase] =
        [Mode.epsv, .pasv, .active].flatMap { mode in [0, 1, 64 << 20].map { TransferCase(mode: mode, size: $0) } }
        + [TransferCase(mode: .port, size: 1 << 20)]

    @Test(
        "curl upload and download",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(3)),
        arguments: transferCases
    )
    func roundTrip(_ transfer: TransferCase) async throws {
        let curl = try Curl()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-curl")
            defer { scratch.remove() }
            let data = try TestData.random(transfer.size)
            let local = scratch.url.appendingPathComponent("upload.bin")
            try data.write(to: local)

            let upload = try await curl.run(
                port,
                ["-T", local.path, Curl.url(port, "up.bin")] + transfer.mode.arguments
            )
            #expect(upload.status == 0, "curl upload (\(transfer)): \(upload.summary)")
            let stored = try Data(contentsOf: fixture.url("up.bin"))
            #expect(stored == data, "uploaded file on disk: \(TestData.difference(stored, data))")

            let other = try TestData.random(transfer.size)
            try other.write(to: fixture.url("down.bin"))
            let download = try await curl.run(port, [Curl.url(port, "down.bin")] + transfer.mode.arguments)
            #expect(download.status == 0, "curl download (\(transfer)): \(download.summary)")
            #expect(download.stdout == other, "downloaded bytes: \(TestData.difference(download.stdout, other))")
        }
    }

    @Test(
        "curl resumes a download (-C -) and an upload (-C - -T), and creates directories",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func resume() async throws {
        let curl = try Curl()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-curl")
            defer { scratch.remove() }
            let data = try TestData.random(3 << 20 + 7)
            let cut = 1 << 20 + 3

            // Download: a local partial file is completed from the server's copy.
            try data.write(to: fixture.url("resume.bin"))
            let partial = scratch.url.appendingPathComponent("partial.bin")
            try data.prefix(cut).write(to: partial)
            let download = try await curl.run(port, ["-C", "-", "-o", partial.path, Curl.url(port, "resume.bin")])
            #expect(download.status == 0, "curl -C - download: \(download.summary)")
            let completed = try Data(contentsOf: partial)
            #expect(completed == data, "resumed download: \(TestData.difference(completed, data))")

            // Upload: a partial file on the server is completed from the local copy (SIZE, then APPE).
            try FileManager.default.createDirectory(at: fixture.url("uploads"), withIntermediateDirectories: true)
            try data.prefix(cut).write(to: fixture.url("uploads/resume-up.bin"))
            let local = scratch.url.appendingPathComponent("full.bin")
            try data.write(to: local)
            let upload = try await curl.run(
                port,
                ["-C", "-", "-T", local.path, Curl.url(port, "uploads/resume-up.bin")]
            )
            #expect(upload.status == 0, "curl -C - -T upload: \(upload.summary)")
            let stored = try Data(contentsOf: fixture.url("uploads/resume-up.bin"))
            #expect(stored == data, "resumed upload on disk: \(TestData.difference(stored, data))")

            // --ftp-create-dirs makes the missing directories (MKD, CWD) on a resumed upload of a new file.
            let created = try await curl.run(
                port,
                ["--ftp-create-dirs", "-C", "-", "-T", local.path, Curl.url(port, "new/nested/dir/file.bin")]
            )
            #expect(created.status == 0, "curl --ftp-create-dirs: \(created.summary)")
            let nested = try Data(contentsOf: fixture.url("new/nested/dir/file.bin"))
            #expect(nested == data, "upload into created directories: \(TestData.difference(nested, data))")
        }
    }

    @Test(
        "curl lists a directory (LIST and --list-only) with names with spaces and non-ASCII characters",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func listing() async throws {
        let curl = try Curl()
        try await Fixture.withServer { fixture, port in
            let names = ["plain.txt", "name with space.txt", "ünïcödé 名前.txt"]
            try FileManager.default.createDirectory(
                at: fixture.url("listing/sub dir"),
                withIntermediateDirectories: true
            )
            for (index, name) in names.enumerated() {
                try Data(repeating: 65, count: 100 + index).write(to: fixture.url("listing/\(name)"))
            }

            let long = try await curl.run(port, [Curl.url(port, "listing/")])
            #expect(long.status == 0, "curl LIST: \(long.summary)")
            let lines = long.standardOutput.split(separator: "\r\n").map(String.init)
                .flatMap { $0.split(separator: "\n").map(String.init) }
            for (index, name) in names.enumerated() {
                let line = lines.first { $0.hasSuffix(" " + name) }
                #expect(line != nil, "LIST lacks \(name): \(lines)")
                if let line {
                    let columns = line.split(separator: " ", maxSplits: 8, omittingEmptySubsequences: true)
                    #expect(columns.count == 9 && columns[4] == "\(100 + index)", "LIST line for \(name): \(line)")
                }
            }
            #expect(
                lines.contains { $0.hasPrefix("d") && $0.hasSuffix(" sub dir") },
                "LIST lacks the directory: \(lines)"
            )

            let short = try await curl.run(port, ["--list-only", Curl.url(port, "listing/")])
            #expect(short.status == 0, "curl --list-only: \(short.summary)")
            let listed = Set(
                short.standardOutput.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(
                    String.init
                )
            )
            #expect(listed == Set(names + ["sub dir"]), "NLST names")

            // The root listing through a percent-encoded non-ASCII directory URL.
            try FileManager.default.createDirectory(at: fixture.url("ärger dir"), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: fixture.url("ärger dir/ß.txt"))
            let nested = try await curl.run(port, ["--list-only", Curl.url(port, "ärger dir/")])
            #expect(
                nested.status == 0 && nested.standardOutput.contains("ß.txt"),
                "listing of 'ärger dir/': \(nested.summary)"
            )
        }
    }

    @Test(
        "curl moves files with spaces and non-ASCII names (percent-encoded URLs)",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func nonASCIINames() async throws {
        let curl = try Curl()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-curl")
            defer { scratch.remove() }
            let data = try TestData.random(100_000)
            let local = scratch.url.appendingPathComponent("local.bin")
            try data.write(to: local)
            let remote = "dir with space/ünïcödé 名前.txt"
            let upload = try await curl.run(port, ["--ftp-create-dirs", "-T", local.path, Curl.url(port, remote)])
            #expect(upload.status == 0, "upload to \(remote): \(upload.summary)")
            let stored = try Data(contentsOf: fixture.url(remote))
            #expect(stored == data, "\(remote) on disk: \(TestData.difference(stored, data))")
            let download = try await curl.run(port, [Curl.url(port, remote)])
            #expect(download.status == 0 && download.stdout == data, "download of \(remote): \(download.summary)")
            // The same through each of curl's CWD strategies.
            for method in ["multicwd", "singlecwd", "nocwd"] {
                let result = try await curl.run(port, ["--ftp-method", method, Curl.url(port, remote)])
                #expect(result.status == 0 && result.stdout == data, "--ftp-method \(method): \(result.summary)")
            }
        }
    }

    @Test(
        "curl -Q quote commands: DELE, RNFR/RNTO, MKD; a failing one gives exit code 21",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func quoteCommands() async throws {
        let curl = try Curl()
        try await Fixture.withServer { fixture, port in
            try Data("delete me".utf8).write(to: fixture.url("x.txt"))
            try Data("rename me".utf8).write(to: fixture.url("a.txt"))
            let root = Curl.url(port, "")
            let delete = try await curl.run(port, ["--list-only", "-Q", "DELE x.txt", root])
            #expect(delete.status == 0, "-Q DELE: \(delete.summary)")
            #expect(!FileManager.default.fileExists(atPath: fixture.url("x.txt").path), "-Q DELE x.txt left the file")
            #expect(!delete.standardOutput.contains("x.txt"), "the listing after DELE still shows x.txt")

            let rename = try await curl.run(port, ["--list-only", "-Q", "RNFR a.txt", "-Q", "RNTO b.txt", root])
            #expect(rename.status == 0, "-Q RNFR/RNTO: \(rename.summary)")
            #expect(try Data(contentsOf: fixture.url("b.txt")) == Data("rename me".utf8), "b.txt after RNFR/RNTO")
            #expect(!FileManager.default.fileExists(atPath: fixture.url("a.txt").path), "a.txt after RNFR/RNTO")

            let mkdir = try await curl.run(port, ["--list-only", "-Q", "MKD made by quote", root])
            #expect(mkdir.status == 0 && mkdir.standardOutput.contains("made by quote"), "-Q MKD: \(mkdir.summary)")

            let failing = try await curl.run(port, ["--list-only", "-Q", "DELE no-such-file.txt", root])
            #expect(
                failing.status == 21,
                "-Q DELE of a missing file: curl's quote error (21) expected: \(failing.summary)"
            )
        }
    }

    @Test(
        "curl: a wrong password or an unknown user gives curl's login-denied exit code (67)",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func loginDenied() async throws {
        let curl = try Curl()
        try await Fixture.withServer { _, port in
            let wrongPassword = try await curl.run(port, [Curl.url(port, "")], user: "alice", password: "wrong")
            #expect(wrongPassword.status == 67, "wrong password: \(wrongPassword.summary)")
            let unknownUser = try await curl.run(port, [Curl.url(port, "")], user: "mallory", password: "x")
            #expect(unknownUser.status == 67, "unknown user: \(unknownUser.summary)")
            let anonymous = try await curl.run(port, [Curl.url(port, "")], user: "anonymous", password: "guest@")
            #expect(anonymous.status == 67, "anonymous (not configured): \(anonymous.summary)")
            let good = try await curl.run(port, ["--list-only", Curl.url(port, "")])
            #expect(good.status == 0 && good.standardOutput.contains("secret.txt"), "alice: \(good.summary)")
        }
    }

    @Test(
        "curl: bob (read only) cannot upload; carol cannot leave her home",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func permissionsAndJail() async throws {
        let curl = try Curl()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-curl")
            defer { scratch.remove() }
            let local = scratch.url.appendingPathComponent("local.txt")
            try Data("from bob".utf8).write(to: local)
            let upload = try await curl.run(
                port,
                ["-T", local.path, Curl.url(port, "bob.txt")],
                user: "bob",
                password: Fixture.bobPassword
            )
            #expect(upload.status == 25, "bob's upload: curl's upload-failed (25) expected: \(upload.summary)")
            #expect(
                !FileManager.default.fileExists(atPath: fixture.url("bob.txt").path),
                "bob's refused upload left a file"
            )
            let read = try await curl.run(
                port,
                [Curl.url(port, "pub/readme.txt")],
                user: "bob",
                password: Fixture.bobPassword
            )
            #expect(
                read.status == 0 && read.standardOutput == Fixture.readmeText,
                "bob reads pub/readme.txt: \(read.summary)"
            )

            for path in ["../secret.txt", "%2e%2e/secret.txt", "%2F..%2Fsecret.txt"] {
                let escape = try await curl.run(
                    port,
                    ["--path-as-is", "ftp://\(Fixture.host):\(port)/\(path)"],
                    user: "carol",
                    password: Fixture.carolPassword
                )
                #expect(escape.status != 0, "carol fetching \(path): \(escape.summary)")
                #expect(
                    !escape.standardOutput.contains(Fixture.secretText),
                    "carol read the file outside her home via \(path)"
                )
            }
        }
    }
}

/// Runs curl with no user configuration, short connect timeouts and a hard limit.
struct Curl {
    let path: String

    init(sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.path = try Interop.tool("curl", sourceLocation: sourceLocation)
    }

    /// An ftp:// URL for a path inside the server (percent-encoded here).
    static func url(_ port: Int, _ path: String) -> String {
        let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
        return "ftp://\(Fixture.host):\(port)/\(encoded)"
    }

    func run(
        _ port: Int,
        _ arguments: [String],
        user: String = "alice",
        password: String = Fixture.alicePassword
    ) async throws -> ProcessResult {
        // -q first: ignore any ~/.curlrc.
        let common = [
            "-q", "--silent", "--show-error", "--connect-timeout", "10", "--max-time", "120",
            "--user", "\(user):\(password)",
        ]
        return try await ProcessRunner.run(self.path, common + arguments, timeout: .seconds(150))
    }
}
