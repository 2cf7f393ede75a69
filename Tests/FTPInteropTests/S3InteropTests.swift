import FTPServer
import Foundation
import NIOCore
import S3Client
import S3FS
import S3Testing
import Testing

/// Real FTP clients (ftplib, curl, lftp) against the server on an S3 bucket of a real S3 server (SeaweedFS, started by
/// the tests): transfers both ways with checksums from 0 B to 256 MiB, resumes, renames of files and directories,
/// listings across pages, refused keys, a missing bucket, and the store going away mid-transfer.
@Suite("S3 interop", .serialized, .enabled(if: SeaweedFS.isUsable))
struct S3InteropTests {
    static let script = Interop.targetDirectory().appendingPathComponent("Clients/ftplib_s3_client.py").path

    /// Runs a scenario of `Clients/ftplib_s3_client.py`; returns its standard output.
    static func scenario(
        _ name: String,
        _ fixture: S3Fixture,
        port: Int,
        environment: [String: String] = [:],
        timeout: Duration = .seconds(240)
    ) async throws -> String {
        let python = try Interop.tool("python3")
        let result = try await ProcessRunner.run(
            python,
            [Self.script, name, "\(port)"],
            environment: fixture.environment(port: port, environment),
            timeout: timeout
        )
        #expect(result.status == 0 && !result.timedOut, "ftplib S3 scenario \(name): \(result.summary)")
        return result.standardOutput
    }

    /// Checks the `UPLOADED name sha size` lines against the bucket itself.
    static func expectUploads(_ output: String, in fixture: S3Fixture) async throws {
        let uploads = output.split(separator: "\n").filter { $0.hasPrefix("UPLOADED ") }
        #expect(!uploads.isEmpty, "the scenario reported no upload")
        for line in uploads {
            let parts = line.split(separator: " ")
            let stored = try #require(try await fixture.get(String(parts[1])), "\(parts[1]) is not in the bucket")
            #expect(S3Fixture.sha256(stored) == parts[2], "\(parts[1]) in the bucket differs from what was sent")
            #expect(stored.count == Int(parts[3]))
        }
        #expect(try await fixture.bucket.listMultipartUploads().isEmpty, "multipart uploads left behind")
    }

    @Test(
        "ftplib round trip on S3, up and down, SHA-256 compared",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(5)),
        arguments: [0, 1, (5 << 20) + 1, 20 << 20, 256 << 20]
    )
    func roundTrip(_ size: Int) async throws {
        try await S3Fixture.withServer("roundtrip") { fixture, port in
            let seed = try TestData.random(size)
            try await fixture.put("seed.bin", seed)
            let output = try await Self.scenario(
                "roundtrip-\(size)",
                fixture,
                port: port,
                environment: ["FTP_SEED_SHA": S3Fixture.sha256(seed), "FTP_SEED_SIZE": "\(size)"]
            )
            try await Self.expectUploads(output, in: fixture)
        }
    }

    @Test(
        "ftplib on S3: REST + RETR (ranged GET), ABOR of a RETR",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3))
    )
    func ranges() async throws {
        try await S3Fixture.withServer("ranges") { fixture, port in
            let seed = try TestData.random(7 << 20)
            try await fixture.put("seed.bin", seed)
            let environment = ["FTP_SEED_SHA": S3Fixture.sha256(seed), "FTP_SEED_SIZE": "\(seed.count)"]
            _ = try await Self.scenario("rest-download", fixture, port: port, environment: environment)
            _ = try await Self.scenario("abort-retr", fixture, port: port, environment: environment)
        }
    }

    @Test(
        "ftplib on S3: REST + STOR and APPE, small and large (server-side copies), never truncated",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3))
    )
    func resumeAndAppend() async throws {
        try await S3Fixture.withServer("resume") { fixture, port in
            let output = try await Self.scenario("resume-upload", fixture, port: port)
            #expect(try await fixture.bucket.listMultipartUploads().isEmpty)
            #expect(output.contains("UPLOADED resume.bin"))
        }
    }

    @Test(
        "ftplib on S3: RNFR/RNTO of files and directories, MKD/RMD, MFMT and SITE CHMOD refused",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3)),
        arguments: ["rename", "mkdir-rmdir", "unsupported"]
    )
    func fileManagement(_ name: String) async throws {
        try await S3Fixture.withServer(name) { fixture, port in
            _ = try await Self.scenario(name, fixture, port: port)
            if name == "rename" {
                let keys = try await fixture.keys()
                #expect(!keys.contains { $0.hasPrefix("dir/") }, "keys left at the old directory: \(keys)")
                #expect(keys.filter { $0.hasPrefix("target/moved/") }.count == 16)
            }
        }
    }

    @Test(
        "ftplib on S3: NLST, MLSD and LIST of a prefix with 2,100 objects (three listing pages)",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3))
    )
    func manyObjects() async throws {
        try await S3Fixture.withServer("many") { fixture, port in
            let count = 2100
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    if index >= 32 { try await group.next() }
                    group.addTask {
                        try await fixture.bucket.putObject(
                            String(format: "many/f%05d", index),
                            body: ByteBuffer(string: "12345")
                        )
                    }
                }
                try await group.waitForAll()
            }
            _ = try await Self.scenario("many-objects", fixture, port: port, environment: ["FTP_MANY": "\(count)"])
        }
    }

    @Test(
        "ftplib on S3: ABOR, a reset data connection and a vanished client never replace the object",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(3))
    )
    func abortedUploads() async throws {
        try await S3Fixture.withServer("abort") { fixture, port in
            let output = try await Self.scenario("abort-stor", fixture, port: port)
            try await Self.expectUploads(output, in: fixture)
            #expect(try await fixture.keys() == ["keep.bin"])
        }
    }

    @Test(
        "ftplib on S3 with keys the store refuses: 550 for every storage command, a readable log line",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func refusedKeys() async throws {
        try await S3Fixture.withServer(
            "badkeys",
            fileSystemBucket: { server, bucket in
                try server.bucket(
                    bucket.name,
                    credentials: S3Credentials(accessKeyID: SeaweedFS.accessKey, secretAccessKey: "not-the-secret")
                )
            }
        ) { fixture, port in
            _ = try await Self.scenario("refused", fixture, port: port)
            let log = fixture.log.text
            #expect(log.contains("SignatureDoesNotMatch"), "the log should name the refusal:\n\(log)")
            #expect(log.contains("check the secret key"), "the log should say what to check:\n\(log)")
            #expect(!log.contains("not-the-secret"), "the secret key reached the log")
        }
    }

    @Test(
        "ftplib on S3 with a bucket that does not exist: 550 for every storage command",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func missingBucket() async throws {
        try await S3Fixture.withServer(
            "nobucket",
            fileSystemBucket: { server, bucket in try server.bucket(bucket.name + "-missing") }
        ) { fixture, port in
            _ = try await Self.scenario("refused", fixture, port: port)
            #expect(fixture.log.text.contains("NoSuchBucket"), "the log should name the missing bucket")
        }
    }

    @Test(
        "ftplib on S3: the store goes away mid-STOR and mid-RETR; the client gets an error, nothing partial appears",
        .enabled(if: Interop.available("python3") || Interop.required),
        .timeLimit(.minutes(5))
    )
    func storeGoesAway() async throws {
        // A store of its own: this test kills it.
        let server = try await SeaweedFS.start()
        do {
            var configuration = S3FileSystem.Configuration()
            configuration.partsInFlight = 2
            try await S3Fixture.withServer("gone", on: server, configuration: configuration) { fixture, port in
                let old = try TestData.random(1 << 20)
                try await fixture.put("keep.bin", old)
                let big = try TestData.random(64 << 20)
                try await fixture.put("seed.bin", big)
                let pid = try #require(server.pid)
                let output = try await Self.scenario(
                    "store-gone-stor",
                    fixture,
                    port: port,
                    environment: ["FTP_STORE_PID": "\(pid)"]
                )
                #expect(output.contains("STOR REPLY 451") || output.contains("STOR REPLY 426"), "\(output)")
                try await Self.restart(server, fixture)
                #expect(try await fixture.get("keep.bin") == old, "the failed upload replaced keep.bin")
                #expect(try await fixture.keys() == ["keep.bin", "seed.bin"])

                let retrieved = try await Self.scenario(
                    "store-gone-retr",
                    fixture,
                    port: port,
                    environment: [
                        "FTP_STORE_PID": "\(try #require(server.pid))", "FTP_SEED_SHA": S3Fixture.sha256(big),
                        "FTP_SEED_SIZE": "\(big.count)",
                    ]
                )
                #expect(retrieved.contains("RETR REPLY 4") || retrieved.contains("RETR REPLY 5"), "\(retrieved)")
                try await Self.restart(server, fixture)
                #expect(try await fixture.get("seed.bin") == big)
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Starts the killed store again and waits until its volumes serve data (its S3 API answers before that).
    static func restart(_ server: SeaweedFS, _ fixture: S3Fixture) async throws {
        try await server.restart()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(90)
        while true {
            do {
                _ = try await fixture.get("seed.bin")
                return
            } catch {
                if clock.now > deadline { throw error }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    // MARK: curl and lftp

    @Test(
        "curl on S3: uploads and downloads (0 B, 1 MiB, 40 MiB), resumed download, resumed and appended upload",
        .enabled(if: Interop.available("curl") || Interop.required),
        .timeLimit(.minutes(4))
    )
    func curl() async throws {
        let curl = try Curl()
        try await S3Fixture.withServer("curl") { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-s3-curl")
            defer { scratch.remove() }
            for size in [0, 1 << 20, 40 << 20] {
                let data = try TestData.random(size)
                let local = scratch.url.appendingPathComponent("up-\(size).bin")
                try data.write(to: local)
                let upload = try await curl.run(port, ["-T", local.path, Curl.url(port, "up-\(size).bin")])
                #expect(upload.status == 0, "curl upload \(size): \(upload.summary)")
                #expect(try await fixture.get("up-\(size).bin") == data, "up-\(size).bin in the bucket")
                let download = try await curl.run(port, [Curl.url(port, "up-\(size).bin")])
                #expect(download.status == 0 && download.stdout == data, "curl download \(size): \(download.summary)")
            }

            // A download resumed from a partial local file (REST + RETR, a ranged GET).
            let whole = try TestData.random(12 << 20)
            try await fixture.put("resume-down.bin", whole)
            let partial = scratch.url.appendingPathComponent("partial.bin")
            try whole.prefix(5 << 20).write(to: partial)
            let resumedDownload = try await curl.run(
                port,
                ["-C", "-", "-o", partial.path, Curl.url(port, "resume-down.bin")]
            )
            #expect(resumedDownload.status == 0, "curl -C - download: \(resumedDownload.summary)")
            #expect(try Data(contentsOf: partial) == whole, "the resumed download")

            // An upload resumed over a partial remote file larger than S3's smallest part (SIZE, then APPE).
            try await fixture.put("resume-up.bin", whole.prefix(6 << 20))
            let local = scratch.url.appendingPathComponent("whole.bin")
            try whole.write(to: local)
            let resumedUpload = try await curl.run(
                port,
                ["-C", "-", "-T", local.path, Curl.url(port, "resume-up.bin")]
            )
            #expect(resumedUpload.status == 0, "curl -C - -T: \(resumedUpload.summary)")
            #expect(try await fixture.get("resume-up.bin") == whole, "the resumed upload in the bucket")

            // --append onto a small object.
            try await fixture.put("log.txt", Data("first\n".utf8))
            let line = scratch.url.appendingPathComponent("line.txt")
            try Data("second\n".utf8).write(to: line)
            let append = try await curl.run(port, ["--append", "-T", line.path, Curl.url(port, "log.txt")])
            #expect(append.status == 0, "curl --append: \(append.summary)")
            #expect(try await fixture.get("log.txt") == Data("first\nsecond\n".utf8))
            #expect(try await fixture.bucket.listMultipartUploads().isEmpty)
        }
    }

    @Test(
        "lftp on S3: mirror -R a tree, mirror it back, mv a directory, rm -r, all compared byte for byte",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(4))
    )
    func lftpMirror() async throws {
        let lftp = try Lftp()
        try await S3Fixture.withServer("lftp") { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-s3-lftp")
            defer { scratch.remove() }
            let source = scratch.url.appendingPathComponent("source", isDirectory: true)
            let files: [String: Int] = [
                "top.txt": 1000, "empty.bin": 0, "a/b/c/deep.bin": 300_000, "a/large.bin": 9 << 20,
                "dir with space/é.txt": 42,
            ]
            for (name, size) in files {
                let url = source.appendingPathComponent(name)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(),
                    withIntermediateDirectories: true
                )
                try TestData.random(size).write(to: url)
            }
            try FileManager.default.createDirectory(
                at: source.appendingPathComponent("empty-dir"),
                withIntermediateDirectories: true
            )
            let back = scratch.url.appendingPathComponent("back", isDirectory: true)
            let result = try await lftp.run(
                port,
                home: scratch,
                """
                mirror -R \(Lftp.quoted(source.path)) tree; \
                mirror tree \(Lftp.quoted(back.path)); \
                mv tree/a tree/moved; \
                cls -1 tree; \
                rm -r tree/moved
                """
            )
            #expect(result.status == 0, "lftp mirror: \(result.summary)")
            #expect(try TestData.tree(at: back) == TestData.tree(at: source), "the tree mirrored back differs")
            let listed = Set(
                result.standardOutput.split(separator: "\n").map { String($0).trimmingCharacters(in: .whitespaces) }
            )
            #expect(listed.isSuperset(of: ["tree/moved/", "tree/top.txt"]), "cls -1 after mv: \(listed)")
            let keys = try await fixture.keys()
            #expect(!keys.contains { $0.hasPrefix("tree/a/") || $0.hasPrefix("tree/moved/") }, "\(keys)")
            #expect(keys.contains("tree/top.txt") && keys.contains("tree/empty-dir/"), "\(keys)")
            #expect(
                try await fixture.get("tree/dir with space/é.txt")
                    == Data(contentsOf: source.appendingPathComponent("dir with space/é.txt"))
            )
        }
    }
}
