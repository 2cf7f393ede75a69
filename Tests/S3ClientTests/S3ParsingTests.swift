import Foundation
import S3Client
import Testing

/// The pure parts of the client: listing documents, error documents, dates, credentials files, endpoints.
@Suite("S3 parsing")
struct S3ParsingTests {
    @Test("a ListBucketResult page with url-encoded keys, common prefixes and a continuation token")
    func listPage() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>dir%2F</Prefix>\
            <KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated>\
            <EncodingType>url</EncodingType>\
            <Contents><Key>dir%2F</Key><LastModified>2026-11-25T09:06:15.000Z</LastModified>\
            <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>0</Size></Contents>\
            <Contents><Key>dir%2Fa+b%2Bc</Key><LastModified>2026-11-25T09:06:16Z</LastModified>\
            <ETag>"x"</ETag><Size>12345678901</Size></Contents>\
            <CommonPrefixes><Prefix>dir%2Fsub%2F</Prefix></CommonPrefixes>\
            <NextContinuationToken>tok+en/=</NextContinuationToken></ListBucketResult>
            """
        let page = try #require(S3Bucket.parseListPage(Data(xml.utf8)))
        #expect(page.objects.map(\.key) == ["dir/", "dir/a b+c"])
        #expect(page.objects.map(\.size) == [0, 12_345_678_901])
        #expect(page.objects[0].eTag == "\"d41d8cd98f00b204e9800998ecf8427e\"")
        #expect(page.objects[0].lastModified == Date(timeIntervalSince1970: 1_795_597_575))
        #expect(page.objects[1].lastModified == Date(timeIntervalSince1970: 1_795_597_576))
        #expect(page.commonPrefixes == ["dir/sub/"])
        #expect(page.nextContinuationToken == "tok+en/=")
    }

    @Test("the last page has no token; a truncated page without one is refused rather than ending the listing")
    func lastPage() throws {
        let last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"
        let page = try #require(S3Bucket.parseListPage(Data(last.utf8)))
        #expect(page.isEmpty)
        #expect(page.nextContinuationToken == nil)
        let broken = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"
        #expect(S3Bucket.parseListPage(Data(broken.utf8)) == nil)
        #expect(S3Bucket.parseListPage(Data("<Error><Code>x</Code></Error>".utf8)) == nil)
        #expect(S3Bucket.parseListPage(Data("not xml".utf8)) == nil)
    }

    @Test("error descriptions are one readable line with the code, the message and a hint")
    func errorDescription() {
        let error = S3Error(
            operation: "GetObject",
            bucket: "b",
            key: "k",
            status: 403,
            code: "SignatureDoesNotMatch",
            message: "The request signature we calculated does not match",
            requestID: "R1"
        )
        #expect(
            error.description
                == "S3 GetObject 'k' in bucket 'b' failed: HTTP 403 SignatureDoesNotMatch: The request signature we "
                + "calculated does not match (check the secret key) [request R1]"
        )
        #expect(error.isAccessDenied && error.isBadCredentials && !error.isRetryable)
        #expect(S3Error(operation: "x", bucket: "b", status: 503, code: "SlowDown").isRetryable)
        #expect(S3Error(operation: "x", bucket: "b", status: 500).isRetryable)
        #expect(S3Error(operation: "x", bucket: "b").isRetryable)
        #expect(!S3Error(operation: "x", bucket: "b", status: 404, code: "NoSuchKey").isRetryable)
        #expect(S3Error(operation: "x", bucket: "b", status: 404, code: "NoSuchKey").isNotFound)
        #expect(!S3Error(operation: "x", bucket: "b", status: 404, code: "NoSuchBucket").isNotFound)
        let redirect = S3Error(
            operation: "ListObjectsV2",
            bucket: "b",
            status: 301,
            code: "PermanentRedirect",
            bucketRegion: "eu-west-1"
        )
        #expect(redirect.description.contains("the bucket is in region eu-west-1; set region=eu-west-1"))
    }

    @Test("dates: ISO 8601 from listings and HTTP dates from headers")
    func dates() {
        #expect(UTCDate.parseISO8601("2013-05-24T00:00:00Z") == Date(timeIntervalSince1970: 1_369_353_600))
        #expect(UTCDate.parseISO8601("2013-05-24T00:00:00.500Z") == Date(timeIntervalSince1970: 1_369_353_600.5))
        #expect(UTCDate.parseISO8601("2013-05-24 00:00:00Z") == nil)
        #expect(UTCDate.parseHTTPDate("Fri, 24 May 2013 00:00:00 GMT") == Date(timeIntervalSince1970: 1_369_353_600))
        #expect(UTCDate.parseHTTPDate("Fri, 24 Mai 2013 00:00:00 GMT") == nil)
        #expect(AMZTimestamp(Date(timeIntervalSince1970: 1_369_353_600)).dateTime == "20130524T000000Z")
    }

    @Test("endpoints: http and https, ports, IPv6, no paths")
    func endpoints() throws {
        let local = try S3Endpoint(url: "http://127.0.0.1:8333/")
        #expect(local == S3Endpoint(isSecure: false, host: "127.0.0.1", port: 8333))
        #expect(local.authority == "127.0.0.1:8333")
        #expect(try S3Endpoint(url: "https://s3.example.com:443").authority == "s3.example.com")
        #expect(try S3Endpoint(url: "http://[::1]:9000").authority == "[::1]:9000")
        #expect(S3Endpoint.aws(region: "eu-west-1").description == "https://s3.eu-west-1.amazonaws.com")
        #expect(throws: S3ConfigurationError.self) { try S3Endpoint(url: "ftp://x") }
        #expect(throws: S3ConfigurationError.self) { try S3Endpoint(url: "http://x/path") }
        #expect(throws: S3ConfigurationError.self) { try S3Endpoint(url: "http://x:0") }
    }

    @Test("addressing: path-style for other stores, virtual-hosted on AWS when the name allows it")
    func addressing() throws {
        let credentials = S3Credentials(accessKeyID: "k", secretAccessKey: "s")
        func url(_ bucket: String, _ endpoint: S3Endpoint, _ style: S3AddressingStyle = .auto) throws -> String {
            try S3Bucket(
                name: bucket,
                configuration: .init(
                    endpoint: endpoint,
                    region: "eu-west-1",
                    credentials: credentials,
                    addressingStyle: style
                )
            ).displayURL
        }
        let aws = S3Endpoint.aws(region: "eu-west-1")
        let local = S3Endpoint(isSecure: false, host: "127.0.0.1", port: 9000)
        #expect(try url("my-bucket", aws) == "https://my-bucket.s3.eu-west-1.amazonaws.com")
        #expect(try url("my.bucket", aws) == "https://s3.eu-west-1.amazonaws.com/my.bucket")
        #expect(try url("My_Bucket", aws) == "https://s3.eu-west-1.amazonaws.com/My_Bucket")
        #expect(try url("my-bucket", local) == "http://127.0.0.1:9000/my-bucket")
        #expect(try url("my-bucket", local, .virtual) == "http://my-bucket.127.0.0.1:9000")
        #expect(try url("my-bucket", aws, .path) == "https://s3.eu-west-1.amazonaws.com/my-bucket")
        #expect(throws: S3ConfigurationError.self) { try url("My_Bucket", aws, .virtual) }
    }

    @Test("credentials: environment first, then the shared credentials file and its profiles")
    func credentials() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("credentials")
        try Data(
            """
            # comment
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = default/secret

            [profile other]
            AWS_ACCESS_KEY_ID=OTHERKEY
            aws_secret_access_key=other+secret
            aws_session_token = tok
            [broken]
            aws_access_key_id = ONLYKEY
            """.utf8
        ).write(to: file)

        let fromEnvironment = try #require(
            try S3Credentials.resolve(environment: [
                "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "t",
                "AWS_SHARED_CREDENTIALS_FILE": file.path,
            ])
        )
        #expect(
            fromEnvironment.0 == S3Credentials(accessKeyID: "ENVKEY", secretAccessKey: "envsecret", sessionToken: "t")
        )
        #expect(fromEnvironment.1 == .environment)

        let fromFile = try #require(try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path]))
        #expect(fromFile.0 == S3Credentials(accessKeyID: "DEFAULTKEY", secretAccessKey: "default/secret"))
        let other = try #require(
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "other"])
        )
        #expect(other.0 == S3Credentials(accessKeyID: "OTHERKEY", secretAccessKey: "other+secret", sessionToken: "tok"))

        #expect(try S3Credentials.resolve(environment: ["HOME": "/nonexistent-home"]) == nil)
        #expect(throws: S3CredentialsError.self) {
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "broken"])
        }
        #expect(throws: S3CredentialsError.self) {
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "nope"])
        }
        #expect(throws: S3CredentialsError.self) {
            try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "only"])
        }
        #expect(throws: S3CredentialsError.self) {
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials"])
        }
    }
}
