import Crypto
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as S3 uses it: the path is encoded once and never normalized, every
/// header handed over is signed, and the payload hash is a header of its own (`x-amz-content-sha256`).
///
/// Written here rather than taken from a package: none of the packages available to this project signs AWS requests.
/// Checked against AWS's published Signature Version 4 test suite (Tests/S3ClientTests/S3SignerTests.swift).
///
/// - SeeAlso: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
public struct S3Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    public var service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty payload.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// What is signed: the request as it goes on the wire.
    public struct Request: Sendable {
        public var method: String
        /// The URI path exactly as sent, already percent-encoded (``URIEncoding/encodePath(_:)``).
        public var encodedPath: String
        /// The query parameters, not encoded; a parameter without a value has `""`.
        public var query: [(name: String, value: String)]
        /// Every header to sign (`host` and `x-amz-date` among them); names in any case.
        public var headers: [(name: String, value: String)]
        /// The payload's SHA-256 in lower-case hex, or `UNSIGNED-PAYLOAD`.
        public var payloadHash: String

        public init(
            method: String,
            encodedPath: String,
            query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)],
            payloadHash: String = S3Signer.emptyPayloadHash
        ) {
            self.method = method
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The canonical request (task 1) and the `SignedHeaders` list.
    public static func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        var pairs: [(name: String, value: String)] = request.query.map {
            (URIEncoding.encode($0.name), URIEncoding.encode($0.value))
        }
        pairs.sort { left, right in left.name == right.name ? left.value < right.value : left.name < right.name }
        let query = pairs.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        // Header names lower-cased and sorted; repeated headers joined with commas in their order; values trimmed with
        // inner runs of spaces collapsed to one.
        var values: [String: [String]] = [:]
        for (name, value) in request.headers {
            values[name.lowercased(), default: []].append(Self.trimmed(value))
        }
        let names = values.keys.sorted()
        let headers = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let path = request.encodedPath.isEmpty ? "/" : request.encodedPath
        let text = [request.method, path, query, headers, signedHeaders, request.payloadHash].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// The string to sign (task 2) for a canonical request made at `timestamp`.
    public func stringToSign(canonicalRequest: String, timestamp: AMZTimestamp) -> String {
        let hash = URIEncoding.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))
        return "AWS4-HMAC-SHA256\n\(timestamp.dateTime)\n\(self.scope(timestamp))\n\(hash)"
    }

    /// The signature (task 3) of a string to sign.
    public func signature(stringToSign: String, timestamp: AMZTimestamp) -> String {
        func hmac(_ key: some ContiguousBytes, _ text: String) -> HMAC<SHA256>.MAC {
            HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: key))
        }
        let dateKey = hmac(Data(("AWS4" + self.credentials.secretAccessKey).utf8), timestamp.date)
        let regionKey = hmac(dateKey, self.region)
        let serviceKey = hmac(regionKey, self.service)
        let signingKey = hmac(serviceKey, "aws4_request")
        return URIEncoding.hex(hmac(signingKey, stringToSign))
    }

    /// The `Authorization` header value for `request`, whose headers must already carry `x-amz-date` (and the session
    /// token, when there is one).
    public func authorization(for request: Request, timestamp: AMZTimestamp) -> String {
        let (canonical, signedHeaders) = Self.canonicalRequest(request)
        let signature = self.signature(
            stringToSign: self.stringToSign(canonicalRequest: canonical, timestamp: timestamp),
            timestamp: timestamp
        )
        return "AWS4-HMAC-SHA256 Credential=\(self.credentials.accessKeyID)/\(self.scope(timestamp)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// Adds `x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` (with temporary credentials) and
    /// `Authorization` to `request.headers`, and returns them all.
    public func sign(_ request: Request, at date: Date = Date()) -> [(name: String, value: String)] {
        let timestamp = AMZTimestamp(date)
        var request = request
        request.headers.append(("x-amz-date", timestamp.dateTime))
        request.headers.append(("x-amz-content-sha256", request.payloadHash))
        if let token = self.credentials.sessionToken {
            request.headers.append(("x-amz-security-token", token))
        }
        let authorization = self.authorization(for: request, timestamp: timestamp)
        return request.headers + [("Authorization", authorization)]
    }

    private func scope(_ timestamp: AMZTimestamp) -> String {
        "\(timestamp.date)/\(self.region)/\(self.service)/aws4_request"
    }

    private static func trimmed(_ value: String) -> String {
        var result = ""
        var pendingSpace = false
        for character in value.trimmingCharacters(in: .whitespaces) {
            if character == " " {
                pendingSpace = true
                continue
            }
            if pendingSpace { result.append(" ") }
            pendingSpace = false
            result.append(character)
        }
        return result
    }
}

/// The two time formats of Signature Version 4, in UTC: `20150830T123600Z` and `20150830`.
public struct AMZTimestamp: Sendable, Hashable {
    public let dateTime: String
    public var date: String { String(self.dateTime.prefix(8)) }

    public init(_ date: Date) {
        let components = UTCDate(date)
        self.dateTime = components.compactDateTime
    }

    /// A timestamp written `YYYYMMDDTHHMMSSZ` (for tests against published vectors).
    public init?(dateTime: String) {
        guard dateTime.utf8.count == 16, dateTime.hasSuffix("Z"), dateTime.dropFirst(8).first == "T" else {
            return nil
        }
        self.dateTime = dateTime
    }
}
