import Foundation
import S3Client
import S3FS
import S3Testing
import Testing
import VirtualFS

/// `s3://` URLs as fs-s3fs writes them, and the startup check's messages.
@Suite("s3:// URLs")
struct S3URLTests {
    func make(_ url: String, environment: [String: String] = [:]) throws -> S3FileSystem {
        try S3FileSystem.make(FileSystemURL(url), environment: environment)
    }

    @Test("keys, bucket, prefix and parameters from the URL")
    func fullURL() throws {
        let fs = try self.make(
            "s3://AKID:se%2Fcret@my-bucket/some/prefix/?endpoint_url=http://127.0.0.1:9000&region=eu-west-3&strict=0"
                + "&acl=private&cache_control=max-age%3D60"
        )
        #expect(fs.bucket.name == "my-bucket")
        #expect(fs.prefix == "some/prefix/")
        #expect(fs.bucket.configuration.credentials == S3Credentials(accessKeyID: "AKID", secretAccessKey: "se/cret"))
        #expect(fs.bucket.configuration.endpoint == S3Endpoint(isSecure: false, host: "127.0.0.1", port: 9000))
        #expect(fs.bucket.configuration.region == "eu-west-3")
        #expect(fs.configuration.isStrict == false)
        #expect(fs.bucket.displayURL == "http://127.0.0.1:9000/my-bucket")
        let headers = fs.bucket.configuration.objectHeaders.map { "\($0.name)=\($0.value)" }
        #expect(headers == ["x-amz-acl=private", "cache-control=max-age=60"])
    }

    @Test("defaults: AWS endpoint of the region, virtual-hosted, strict, no prefix")
    func defaults() throws {
        let fs = try self.make("s3://K:S@bucket", environment: ["AWS_REGION": "ap-south-1"])
        #expect(fs.prefix == "")
        #expect(fs.configuration.isStrict)
        #expect(fs.bucket.displayURL == "https://bucket.s3.ap-south-1.amazonaws.com")
        let plain = try self.make("s3://K:S@bucket/")
        #expect(plain.bucket.configuration.region == "us-east-1")
        let path = try self.make("s3://K:S@bucket?addressing_style=path&strict=1")
        #expect(path.bucket.displayURL == "https://s3.us-east-1.amazonaws.com/bucket")
        #expect(path.configuration.isStrict)
    }

    @Test("payload signing: on over http and off over https by default, payload_signing= either way")
    func payloadSigning() throws {
        let http = "s3://K:S@bucket?endpoint_url=http://127.0.0.1:9000"
        let https = "s3://K:S@bucket?endpoint_url=https://s3.example.net"
        #expect(try self.make(http).bucket.configuration.signsPayload)
        #expect(try !self.make(https).bucket.configuration.signsPayload)
        #expect(try !self.make(http + "&payload_signing=0").bucket.configuration.signsPayload)
        #expect(try !self.make(http + "&payload_signing=false").bucket.configuration.signsPayload)
        #expect(try self.make(https + "&payload_signing=1").bucket.configuration.signsPayload)
        #expect(try self.make(https + "&payload_signing=on").bucket.configuration.signsPayload)
    }

    @Test("keys from the environment, then from the shared credentials file")
    func keysFromElsewhere() throws {
        let fromEnvironment = try self.make(
            "s3://bucket",
            environment: ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "tok"]
        )
        #expect(
            fromEnvironment.bucket.configuration.credentials
                == S3Credentials(accessKeyID: "ENV", secretAccessKey: "envsecret", sessionToken: "tok")
        )
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try Data("[ftp]\naws_access_key_id=FILEKEY\naws_secret_access_key=filesecret\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try self.make(
            "s3://bucket",
            environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "ftp"]
        )
        #expect(fromFile.bucket.configuration.credentials.accessKeyID == "FILEKEY")
        // The URL wins over both.
        let fromURL = try self.make(
            "s3://URLKEY:urlsecret@bucket",
            environment: ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "envsecret"]
        )
        #expect(fromURL.bucket.configuration.credentials.accessKeyID == "URLKEY")
    }

    struct BadURL: Sendable, CustomTestStringConvertible {
        var url: String
        var environment: [String: String] = ["HOME": "/nonexistent-home"]
        var mentions: String
        var testDescription: String { self.url }
    }

    static let badURLs: [BadURL] = [
        BadURL(url: "s3://K:S@/prefix", mentions: "no bucket"),
        BadURL(url: "s3://K:S@bucket?endpoint=http://x", mentions: "unknown parameter 'endpoint'"),
        BadURL(url: "s3://K:S@bucket?strict=maybe", mentions: "strict must be 1 or 0"),
        BadURL(url: "s3://K:S@bucket?endpoint_url=ftp://x", mentions: "must start with http:// or https://"),
        BadURL(url: "s3://K:S@bucket?addressing_style=dns", mentions: "addressing_style"),
        BadURL(url: "s3://K:S@bucket?payload_signing=sometimes", mentions: "payload_signing must be 1 or 0"),
        BadURL(url: "s3://K@bucket", mentions: "without a secret key"),
        BadURL(url: "s3://bucket", mentions: "no S3 keys"),
        BadURL(url: "s3://K:S@bucket/a/../b", mentions: "'.' or '..'"),
        BadURL(
            url: "s3://bucket",
            environment: ["AWS_ACCESS_KEY_ID": "only-the-key"],
            mentions: "AWS_SECRET_ACCESS_KEY is not"
        ),
    ]

    @Test("malformed URLs and missing keys: one line, no secret", arguments: badURLs)
    func badURL(_ bad: BadURL) {
        do {
            _ = try self.make(bad.url, environment: bad.environment)
            Issue.record("\(bad.url) was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains(bad.mentions), "\(text)")
            #expect(!text.contains(":S@"), "the secret leaked: \(text)")
            #expect(!text.contains("\n"))
        }
    }

    @Test(
        "the startup check names the problem: missing bucket, unknown key, wrong secret, unreachable store",
        .enabled(if: SeaweedFS.isUsable),
        .timeLimit(.minutes(3))
    )
    func startupCheck() async throws {
        try await SeaweedFS.withBucket("check") { server, bucket in
            let endpoint = server.endpointURL
            func open(_ credentials: String, _ bucketName: String, endpoint: String) async -> String? {
                do {
                    _ = try await S3FileSystem.open(
                        FileSystemURL("s3://\(credentials)@\(bucketName)/p?endpoint_url=\(endpoint)"),
                        environment: [:]
                    )
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            let keys = "\(SeaweedFS.accessKey):\(SeaweedFS.secretKey)"
            #expect(await open(keys, bucket.name, endpoint: endpoint) == nil)
            #expect(
                await open(keys, "no-such-bucket-here", endpoint: endpoint)
                    == "S3 bucket 'no-such-bucket-here' does not exist at \(endpoint)"
            )
            #expect(
                await open("nobody:whatever", bucket.name, endpoint: endpoint)
                    == "S3 at \(endpoint) does not know the access key 'nobody' (InvalidAccessKeyId)"
            )
            let wrongSecret = await open("\(SeaweedFS.accessKey):not-the-secret", bucket.name, endpoint: endpoint)
            #expect(
                wrongSecret
                    == "S3 at \(endpoint) rejected the secret key of access key '\(SeaweedFS.accessKey)' (SignatureDoesNotMatch)"
            )
            #expect(wrongSecret?.contains("not-the-secret") == false)
            let port = try LoopbackPort.unused()
            let unreachable = await open(keys, bucket.name, endpoint: "http://127.0.0.1:\(port)")
            #expect(
                unreachable?.hasPrefix("cannot reach S3 at http://127.0.0.1:\(port):") == true,
                "\(unreachable ?? "")"
            )
        }
    }
}
