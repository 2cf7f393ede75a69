import Foundation
import S3Client
import Testing

/// Signature Version 4 against AWS's published vectors: the generic test suite (aws-sig-v4-test-suite, service
/// `service`, credentials `AKIDEXAMPLE`) and the S3 examples of the S3 API reference (bucket `examplebucket`).
@Suite("SigV4 signing")
struct S3SignerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var path: String
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)]
        var canonicalRequest: String
        var stringToSign: String
        var authorization: String

        var testDescription: String { self.name }
    }

    static let suiteCredentials = S3Credentials(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    static let suiteHeaders: [(name: String, value: String)] = [
        ("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"),
    ]
    static let suiteScope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let token =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    /// Cases of the AWS Signature Version 4 test suite, with their `.creq`, `.sts` and `.authz` files.
    static let suite: [Vector] = [
        Vector(
            name: "get-vanilla",
            method: "GET",
            path: "/",
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        Vector(
            name: "get-vanilla-empty-query-key",
            method: "GET",
            path: "/",
            query: [("Param1", "value1")],
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"
        ),
        Vector(
            name: "get-vanilla-query-order-key-case",
            method: "GET",
            path: "/",
            query: [("Param2", "value2"), ("Param1", "value1")],
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
        Vector(
            name: "get-vanilla-query-order-key",
            method: "GET",
            path: "/",
            query: [("Param1", "value2"), ("Param1", "Value1")],
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"
        ),
        Vector(
            name: "get-vanilla-query-order-value",
            method: "GET",
            path: "/",
            query: [("Param1", "value2"), ("Param1", "value1")],
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"
        ),
        Vector(
            name: "get-vanilla-query-unreserved",
            method: "GET",
            path: "/",
            query: [
                (
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                )
            ],
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"
        ),
        Vector(
            name: "get-vanilla-utf8-query",
            method: "GET",
            path: "/",
            query: [("ሴ", "bar")],
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\neb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"
        ),
        Vector(
            name: "get-utf8",
            method: "GET",
            path: "/ሴ",
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        ),
        Vector(
            name: "get-unreserved",
            method: "GET",
            path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"
        ),
        Vector(
            name: "normalize-path/get-space",
            method: "GET",
            path: "/example space/",
            headers: suiteHeaders,
            canonicalRequest:
                "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"
        ),
        Vector(
            name: "get-header-value-trim",
            method: "GET",
            path: "/",
            headers: [
                ("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\""),
                ("X-Amz-Date", "20150830T123600Z"),
            ],
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\na726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            authorization:
                "\(suiteScope), SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        ),
        Vector(
            name: "get-header-key-duplicate",
            method: "GET",
            path: "/",
            headers: [
                ("Host", "example.amazonaws.com"), ("My-Header1", "value2"), ("My-Header1", "value2"),
                ("My-Header1", "value1"), ("X-Amz-Date", "20150830T123600Z"),
            ],
            canonicalRequest:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\ndc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
            authorization:
                "\(suiteScope), SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"
        ),
        Vector(
            name: "post-vanilla",
            method: "POST",
            path: "/",
            headers: suiteHeaders,
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        ),
        Vector(
            name: "post-header-value-case",
            method: "POST",
            path: "/",
            headers: [
                ("Host", "example.amazonaws.com"), ("My-Header1", "VALUE1"), ("X-Amz-Date", "20150830T123600Z"),
            ],
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nd51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
            authorization:
                "\(suiteScope), SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"
        ),
        Vector(
            name: "post-sts-header-before",
            method: "POST",
            path: "/",
            headers: suiteHeaders + [("X-Amz-Security-Token", token)],
            canonicalRequest:
                "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:\(token)\n\nhost;x-amz-date;x-amz-security-token\n\(empty)",
            stringToSign:
                "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
            authorization:
                "\(suiteScope), SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        ),
    ]

    @Test("AWS Signature Version 4 test suite", arguments: suite)
    func testSuite(_ vector: Vector) throws {
        let signer = S3Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let request = S3Signer.Request(
            method: vector.method,
            encodedPath: URIEncoding.encodePath(vector.path),
            query: vector.query,
            headers: vector.headers
        )
        let timestamp = try #require(AMZTimestamp(dateTime: "20150830T123600Z"))
        let canonical = S3Signer.canonicalRequest(request).text
        #expect(canonical == vector.canonicalRequest)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        #expect(stringToSign == vector.stringToSign)
        #expect(signer.authorization(for: request, timestamp: timestamp) == vector.authorization)
    }

    // The examples of the S3 API reference ("Signature Calculations for the Authorization Header"): bucket
    // examplebucket, 24 May 2013, with S3's own x-amz-content-sha256 header.
    static let s3Credentials = S3Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    static let s3Host = ("host", "examplebucket.s3.amazonaws.com")
    static let s3Date = ("x-amz-date", "20130524T000000Z")

    @Test("S3 reference example: GET Object with a Range")
    func getObject() throws {
        let signer = S3Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let request = S3Signer.Request(
            method: "GET",
            encodedPath: "/test.txt",
            headers: [Self.s3Host, ("range", "bytes=0-9"), ("x-amz-content-sha256", Self.empty), Self.s3Date]
        )
        let timestamp = try #require(AMZTimestamp(dateTime: "20130524T000000Z"))
        let canonical = S3Signer.canonicalRequest(request).text
        #expect(
            canonical == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:\(Self.empty)
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                \(Self.empty)
                """
        )
        #expect(
            signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp) == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """
        )
        #expect(
            signer.authorization(for: request, timestamp: timestamp)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("S3 reference example: PUT Object with a key that needs encoding and a signed payload")
    func putObject() throws {
        let signer = S3Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        let request = S3Signer.Request(
            method: "PUT",
            encodedPath: URIEncoding.encodePath("/test$file.text"),
            headers: [
                ("date", "Fri, 24 May 2013 00:00:00 GMT"), Self.s3Host, ("x-amz-content-sha256", payload), Self.s3Date,
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payloadHash: payload
        )
        let timestamp = try #require(AMZTimestamp(dateTime: "20130524T000000Z"))
        let canonical = S3Signer.canonicalRequest(request).text
        #expect(canonical.hasPrefix("PUT\n/test%24file.text\n\n"))
        #expect(
            signer.stringToSign(canonicalRequest: canonical, timestamp: timestamp).hasSuffix(
                "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"
            )
        )
        #expect(
            signer.authorization(for: request, timestamp: timestamp).hasSuffix(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                    + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
            )
        )
    }

    @Test("S3 reference example: GET Bucket lifecycle (a query parameter without a value)")
    func getLifecycle() throws {
        let signer = S3Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let request = S3Signer.Request(
            method: "GET",
            encodedPath: "/",
            query: [("lifecycle", "")],
            headers: [Self.s3Host, ("x-amz-content-sha256", Self.empty), Self.s3Date]
        )
        let timestamp = try #require(AMZTimestamp(dateTime: "20130524T000000Z"))
        #expect(S3Signer.canonicalRequest(request).text.hasPrefix("GET\n/\nlifecycle=\nhost:"))
        #expect(
            signer.authorization(for: request, timestamp: timestamp).hasSuffix(
                "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
            )
        )
    }

    @Test("S3 reference example: GET Bucket (list objects), query sorted and encoded")
    func listObjects() throws {
        let signer = S3Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let request = S3Signer.Request(
            method: "GET",
            encodedPath: "/",
            query: [("prefix", "J"), ("max-keys", "2")],
            headers: [Self.s3Host, ("x-amz-content-sha256", Self.empty), Self.s3Date]
        )
        let timestamp = try #require(AMZTimestamp(dateTime: "20130524T000000Z"))
        #expect(S3Signer.canonicalRequest(request).text.hasPrefix("GET\n/\nmax-keys=2&prefix=J\nhost:"))
        #expect(
            signer.authorization(for: request, timestamp: timestamp).hasSuffix(
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
            )
        )
    }

    @Test("sign() adds the date, the payload hash, the session token and the Authorization header")
    func signAddsHeaders() throws {
        var credentials = Self.s3Credentials
        credentials.sessionToken = "session-token-value"
        let signer = S3Signer(credentials: credentials, region: "eu-west-1")
        let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
        let headers = signer.sign(
            S3Signer.Request(method: "GET", encodedPath: "/b/k", headers: [("host", "h")]),
            at: date
        )
        let names = headers.map { $0.name.lowercased() }
        #expect(names == ["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"])
        #expect(headers[1].value == "20130524T000000Z")
        let authorization = headers[4].value
        #expect(authorization.contains("Credential=AKIAIOSFODNN7EXAMPLE/20130524/eu-west-1/s3/aws4_request"))
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token"))
        #expect(!authorization.contains(credentials.secretAccessKey))
        #expect(!"\(credentials)".contains(credentials.secretAccessKey))
        #expect(!"\(credentials)".contains("session-token-value"))
    }

    @Test("URI encoding: unreserved bytes stay, everything else is %XX; paths keep their slashes")
    func encoding() {
        #expect(URIEncoding.encode("a b/c+d~e_f.g-h") == "a%20b%2Fc%2Bd~e_f.g-h")
        #expect(URIEncoding.encodePath("dir/été *(x).txt") == "dir/%C3%A9t%C3%A9%20%2A%28x%29.txt")
        #expect(URIEncoding.decode("dir/a+b%2Bc", plusIsSpace: true) == "dir/a b+c")
        #expect(URIEncoding.decode("weird%01name", plusIsSpace: true) == "weird\u{01}name")
        #expect(URIEncoding.decode("bad%G1", plusIsSpace: true) == nil)
    }
}
