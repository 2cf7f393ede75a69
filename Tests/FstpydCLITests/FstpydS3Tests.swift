import Foundation
import NIOCore
import S3Client
import S3Testing
import Testing

/// `fstpyd s3://...` against a real S3 server (SeaweedFS, started by the tests): a bucket served end to end, keys
/// from the URL, the environment or the shared credentials file, and every startup refusal as one line.
@Suite("fstpyd on S3", .enabled(if: SeaweedFS.isUsable))
struct FstpydS3Tests {
    @Test(
        "fstpyd serves an S3 bucket prefix: STOR lands in the bucket, the secret never reaches the log",
        .timeLimit(.minutes(2))
    )
    func servesBucket() async throws {
        try await SeaweedFS.withBucket("fstpyd") { server, bucket in
            let directory = try WorkingDirectory()
            defer { directory.remove() }
            try directory.write("credentials.txt", FstpydCLITests.credentials)
            let port = try Loopback.freePort()
            let passive = try Loopback.freePort()
            let url =
                "s3://\(SeaweedFS.accessKey):\(SeaweedFS.secretKey)@\(bucket.name)/served/prefix"
                + "?endpoint_url=\(server.endpointURL)&region=\(SeaweedFS.region)"
            try await FstpydCLITests.withDaemon(
                FstpydCLITests.StartupErrorCase.standard(port, passive, [url]),
                in: directory,
                port: port
            ) { child in
                let ftp = try MiniFTP(port: port)
                #expect(try ftp.login("dave", FstpydCLITests.davePassword).hasPrefix("230"))
                let payload = Data("stored in S3 through fstpyd\n".utf8)
                #expect(try ftp.upload("dave.txt", payload).hasPrefix("226"))
                #expect(try ftp.names() == ["dave.txt"])
                #expect(try ftp.command("MFMT 20200101000000 dave.txt").hasPrefix("502"))
                var stored = ByteBuffer()
                for try await chunk in try await bucket.getObject("served/prefix/dave.txt").body {
                    stored.writeImmutableBuffer(chunk)
                }
                #expect(stored == ByteBuffer(bytes: payload))
                #expect(try ftp.command("QUIT").hasPrefix("221"))
                #expect(
                    child.standardError.contains("s3://\(SeaweedFS.accessKey):***@\(bucket.name)"),
                    "\(child.summary)"
                )
                #expect(!child.standardError.contains(SeaweedFS.secretKey), "the secret key reached the log")
                await FstpydCLITests.expectCleanStop(child)
            }
        }
    }

    @Test("fstpyd takes S3 keys from AWS_* variables and from the shared credentials file", .timeLimit(.minutes(2)))
    func keysFromEnvironment() async throws {
        try await SeaweedFS.withBucket("fstpyd-env") { server, bucket in
            let directory = try WorkingDirectory()
            defer { directory.remove() }
            try directory.write("credentials.txt", FstpydCLITests.credentials)
            try directory.write(
                "aws-credentials",
                "[ftp]\naws_access_key_id = \(SeaweedFS.accessKey)\naws_secret_access_key = \(SeaweedFS.secretKey)\n"
            )
            let url = "s3://\(bucket.name)?endpoint_url=\(server.endpointURL)"
            let environments: [[String: String]] = [
                ["AWS_ACCESS_KEY_ID": SeaweedFS.accessKey, "AWS_SECRET_ACCESS_KEY": SeaweedFS.secretKey],
                [
                    "AWS_SHARED_CREDENTIALS_FILE": directory.path("aws-credentials").path, "AWS_PROFILE": "ftp",
                    "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                ],
            ]
            for (index, environment) in environments.enumerated() {
                let port = try Loopback.freePort()
                let passive = try Loopback.freePort()
                try await FstpydCLITests.withDaemon(
                    FstpydCLITests.StartupErrorCase.standard(port, passive, [url]),
                    environment: environment,
                    in: directory,
                    port: port
                ) { child in
                    let ftp = try MiniFTP(port: port)
                    #expect(try ftp.login("dave", FstpydCLITests.davePassword).hasPrefix("230"))
                    #expect(try ftp.upload("env-\(index).txt", Data("x".utf8)).hasPrefix("226"))
                    #expect(try await bucket.headObject("env-\(index).txt") != nil)
                    #expect(try ftp.command("QUIT").hasPrefix("221"))
                    await FstpydCLITests.expectCleanStop(child)
                }
            }
        }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        /// The URL, given the server's endpoint and a bucket that exists.
        var url: @Sendable (_ endpoint: String, _ bucket: String) -> String
        var environment: [String: String] = [:]
        var mentions: [String]
        var testDescription: String { self.name }
    }

    static let keys = "\(SeaweedFS.accessKey):\(SeaweedFS.secretKey)"

    static let refusals: [Refusal] = [
        Refusal(
            name: "missing bucket",
            url: { endpoint, _ in "s3://\(keys)@no-such-bucket-x?endpoint_url=\(endpoint)" },
            mentions: ["S3 bucket 'no-such-bucket-x' does not exist at http://127.0.0.1:"]
        ),
        Refusal(
            name: "wrong secret key",
            url: { endpoint, bucket in "s3://\(SeaweedFS.accessKey):wrong-secret-x@\(bucket)?endpoint_url=\(endpoint)"
            },
            mentions: ["rejected the secret key of access key '\(SeaweedFS.accessKey)'", "SignatureDoesNotMatch"]
        ),
        Refusal(
            name: "unknown access key",
            url: { endpoint, bucket in "s3://AKIDUNKNOWN:whatever@\(bucket)?endpoint_url=\(endpoint)" },
            mentions: ["does not know the access key 'AKIDUNKNOWN'", "InvalidAccessKeyId"]
        ),
        Refusal(
            name: "no keys anywhere",
            url: { endpoint, bucket in "s3://\(bucket)?endpoint_url=\(endpoint)" },
            environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "HOME": "/nonexistent-home"],
            mentions: ["no S3 keys"]
        ),
        Refusal(
            name: "unknown URL parameter",
            url: { endpoint, bucket in "s3://\(keys)@\(bucket)?endpoint=\(endpoint)" },
            mentions: ["unknown parameter 'endpoint'"]
        ),
        Refusal(
            name: "unreachable endpoint",
            url: { _, bucket in "s3://\(keys)@\(bucket)?endpoint_url=http://127.0.0.1:1" },
            mentions: ["cannot reach S3 at http://127.0.0.1:1"]
        ),
    ]

    @Test(
        "fstpyd s3:// startup refusal: one line on stderr, exit 1, no secret",
        .timeLimit(.minutes(2)),
        arguments: refusals
    )
    func refusal(_ refusal: Refusal) async throws {
        try await SeaweedFS.withBucket("fstpyd-refusal") { server, bucket in
            let directory = try WorkingDirectory()
            defer { directory.remove() }
            try directory.write("credentials.txt", FstpydCLITests.credentials)
            let port = try Loopback.freePort()
            let passive = try Loopback.freePort()
            let result = try await runFstpyd(
                FstpydCLITests.StartupErrorCase.standard(port, passive, [refusal.url(server.endpointURL, bucket.name)]),
                environment: refusal.environment,
                in: directory,
                timeout: .seconds(60)
            )
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(result.status == 1, "exit status \(String(describing: result.status)); stderr: \(result.stderr)")
            #expect(lines.count == 1, "stderr should be one line:\n\(result.stderr)")
            #expect(lines.first?.hasPrefix("fstpyd: error: ") == true, "stderr: \(result.stderr)")
            for text in refusal.mentions {
                #expect(lines.first?.contains(text) == true, "the error should mention '\(text)': \(result.stderr)")
            }
            for secret in [SeaweedFS.secretKey, "wrong-secret-x"] {
                #expect(!result.stderr.contains(secret), "a secret key reached stderr: \(result.stderr)")
            }
        }
    }
}
