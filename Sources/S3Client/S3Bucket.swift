import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A small S3 client bound to one bucket: the requests an FTP front needs (HeadObject, ListObjectsV2, ranged
/// GetObject, PutObject, multipart upload, CopyObject, DeleteObject(s)), signed with Signature Version 4, retried with
/// backoff when the store is busy or briefly unreachable.
///
/// Requests with a body take it as one `ByteBuffer` (a part of at most a few MiB), so that a retry can send it again
/// and its SHA-256 can be signed; downloads stream (``getObject(_:range:ifMatch:)``).
public struct S3Bucket: Sendable {
    /// Everything needed to reach a bucket.
    public struct Configuration: Sendable {
        public var endpoint: S3Endpoint
        public var region: String
        public var credentials: S3Credentials
        /// Default `.auto`: virtual-hosted on AWS when the name allows it, path-style elsewhere.
        public var addressingStyle: S3AddressingStyle
        public var retry: RetryPolicy
        /// How long a request without a large body may take until the answer starts. Default 30 s.
        public var requestTimeout: Duration
        /// How long a request that uploads or copies data may take until the answer starts. Default 15 minutes (a
        /// server-side copy of 5 GiB is slow on some stores).
        public var transferTimeout: Duration
        /// Whether uploads sign their payload's SHA-256 or send `UNSIGNED-PAYLOAD`. Default: signed over `http`, where
        /// the signature is the only integrity check, unsigned over `https`, where TLS is (botocore's choice). The
        /// hash costs about 0.7 s of CPU per GiB.
        public var signsPayload: Bool
        /// Headers sent with every request that creates an object (`x-amz-acl`, `Cache-Control`...).
        public var objectHeaders: [(name: String, value: String)]

        public init(
            endpoint: S3Endpoint,
            region: String,
            credentials: S3Credentials,
            addressingStyle: S3AddressingStyle = .auto
        ) {
            self.endpoint = endpoint
            self.region = region
            self.credentials = credentials
            self.addressingStyle = addressingStyle
            self.retry = RetryPolicy()
            self.requestTimeout = .seconds(30)
            self.transferTimeout = .seconds(15 * 60)
            self.signsPayload = !endpoint.isSecure
            self.objectHeaders = []
        }
    }

    /// Retries with exponential backoff and jitter for answers that say "later" (5xx, `SlowDown`, 429) and for
    /// transport failures of requests that are safe to repeat.
    public struct RetryPolicy: Sendable {
        /// Attempts in all, the first included. Default 4.
        public var maximumAttempts: Int
        /// The pause before the second attempt; it doubles for each further one. Default 100 ms.
        public var initialDelay: Duration
        /// The longest pause. Default 2 s.
        public var maximumDelay: Duration

        public init(
            maximumAttempts: Int = 4,
            initialDelay: Duration = .milliseconds(100),
            maximumDelay: Duration = .seconds(2)
        ) {
            self.maximumAttempts = max(1, maximumAttempts)
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }

        /// The pause before attempt `attempt + 1`: full jitter over half to all of the exponential delay.
        func delay(after attempt: Int) -> Duration {
            let exponential = self.initialDelay * (1 << min(attempt - 1, 16))
            let capped = min(exponential, self.maximumDelay)
            return capped * Double.random(in: 0.5...1.0)
        }
    }

    public let name: String
    public let configuration: Configuration
    let httpClient: HTTPClient
    let logger: Logger
    private let signer: S3Signer
    private let usesVirtualHost: Bool

    /// A client for bucket `name`. `httpClient` defaults to one shared by every bucket of the process, never shut
    /// down (as `HTTPClient.shared`), configured for S3: HTTP/1.1, no redirects, no decompression.
    public init(
        name: String,
        configuration: Configuration,
        httpClient: HTTPClient = S3Bucket.sharedHTTPClient,
        logger: Logger = Logger(label: "fstpy.s3")
    ) throws(S3ConfigurationError) {
        guard !name.isEmpty, !name.contains("/") else {
            throw S3ConfigurationError("'\(name)' is not a bucket name")
        }
        self.name = name
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.signer = S3Signer(credentials: configuration.credentials, region: configuration.region)
        switch configuration.addressingStyle {
        case .path:
            self.usesVirtualHost = false
        case .virtual:
            guard Self.isDNSLabel(name) else {
                throw S3ConfigurationError("bucket '\(name)' cannot be addressed virtual-hosted style (not a DNS name)")
            }
            self.usesVirtualHost = true
        case .auto:
            // Dots break the TLS wildcard certificate of bucket.s3.amazonaws.com, so such names use path style.
            self.usesVirtualHost =
                configuration.endpoint.isAWS && Self.isDNSLabel(name)
                && !(configuration.endpoint.isSecure && name.contains("."))
        }
    }

    /// The process-wide HTTP client for S3 requests. Never shut down: it lives as long as the process, like
    /// `HTTPClient.shared`, whose configuration (redirects followed, HTTP/2) does not suit S3.
    public static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(120)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32),
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        // A refused connection fails the request at once; the retry policy decides what happens next (the client's
        // own retries would wait out the whole connect timeout on a store that is down).
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Whether `name` can be a host name label (lower-case letters, digits, `-` and `.`; 3 to 63 characters).
    private static func isDNSLabel(_ name: String) -> Bool {
        (3...63).contains(name.utf8.count)
            && name.utf8.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }
            && !name.hasPrefix("-") && !name.hasSuffix("-") && !name.contains("..")
    }

    /// Where requests go, for messages: `http://127.0.0.1:8333/bucket` or `https://bucket.s3.eu-west-1.amazonaws.com`.
    public var displayURL: String {
        let scheme = self.configuration.endpoint.isSecure ? "https://" : "http://"
        if self.usesVirtualHost { return scheme + self.name + "." + self.configuration.endpoint.authority }
        return scheme + self.configuration.endpoint.authority + "/" + self.name
    }
}

// MARK: - Sending requests

/// One S3 request, before signing.
struct S3Request {
    var operation: String
    var method: HTTPMethod
    /// The object key; nil for a request on the bucket itself.
    var key: String?
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: ByteBuffer?
    /// Whether the request may be sent again after a transport failure (the store may have applied it).
    var isIdempotent: Bool
    /// Whether the request moves object data (the longer timeout applies).
    var isTransfer = false
}

/// A request as it goes out: its URL and its headers, signature included.
struct S3SignedRequest {
    var url: String
    var headers: HTTPHeaders
}

extension S3Bucket {
    /// Sends `request`, retrying as the policy says; returns the answer when its status is 2xx, throws ``S3Error``
    /// otherwise. The caller consumes the answer's body.
    func send(_ request: S3Request) async throws -> HTTPClientResponse {
        let timeout = request.isTransfer ? self.configuration.transferTimeout : self.configuration.requestTimeout
        return try await self.retrying(request) { signed in
            var http = HTTPClientRequest(url: signed.url)
            http.method = request.method
            http.headers = signed.headers
            if let body = request.body {
                http.body = .bytes(body)
            }
            let response = try await self.httpClient.execute(
                http,
                timeout: .seconds(timeout.components.seconds),
                logger: self.logger
            )
            if (200..<300).contains(response.status.code) { return response }
            throw await self.error(from: response, request)
        }
    }

    /// `request` with its URL and signed headers (signed now: a signature holds for 15 minutes).
    func sign(_ request: S3Request, payloadHash: String = S3Signer.emptyPayloadHash) -> S3SignedRequest {
        let (url, encodedPath, host) = self.location(of: request)
        let signing = S3Signer.Request(
            method: request.method.rawValue,
            encodedPath: encodedPath,
            query: request.query,
            headers: [("host", host)] + request.headers,
            payloadHash: payloadHash
        )
        // Content-Length is not signed: AsyncHTTPClient writes it from the body.
        var headers = HTTPHeaders()
        for (name, value) in self.signer.sign(signing) {
            headers.add(name: name, value: value)
        }
        return S3SignedRequest(url: url, headers: headers)
    }

    /// Signs `request` and hands it to `attempt`, again after a failure the policy retries. `attempt` throws
    /// ``S3Error`` for an answer from the store (retried when ``S3Error/isRetryable``) and any other error for a
    /// failed exchange (retried as a transport failure, for idempotent requests only).
    func retrying<Result>(
        _ request: S3Request,
        _ attempt: (S3SignedRequest) async throws -> Result
    ) async throws -> Result {
        let payloadHash: String
        if let body = request.body, body.readableBytes > 0 {
            payloadHash =
                self.configuration.signsPayload
                ? body.withUnsafeReadableBytes { URIEncoding.hex(SHA256.hash(data: $0)) } : "UNSIGNED-PAYLOAD"
        } else {
            payloadHash = S3Signer.emptyPayloadHash
        }
        let policy = self.configuration.retry
        var attempts = 1
        while true {
            try Task.checkCancellation()
            let failure: S3Error
            do {
                return try await attempt(self.sign(request, payloadHash: payloadHash))
            } catch let error as S3Error {
                failure = error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                let transport = S3Error(
                    operation: request.operation,
                    bucket: self.name,
                    key: request.key,
                    underlying: error
                )
                guard request.isIdempotent else { throw transport }
                failure = transport
            }
            guard failure.isRetryable, attempts < policy.maximumAttempts else { throw failure }
            let delay = policy.delay(after: attempts)
            // Debug: a retry that succeeds changes nothing for anyone; one that fails ends in the error, which the
            // caller logs.
            self.logger.debug(
                "S3 request will be retried",
                metadata: [
                    "s3.error": "\(failure)", "s3.attempt": "\(attempts + 1)/\(policy.maximumAttempts)",
                    "s3.delay": "\(delay)",
                ]
            )
            try await Task.sleep(for: delay)
            attempts += 1
        }
    }

    /// Sends `request` and reads its whole (small) answer body: XML documents.
    func sendAndCollect(_ request: S3Request, limit: Int = 16 << 20) async throws -> (HTTPClientResponse, ByteBuffer) {
        let response = try await self.send(request)
        do {
            let body = try await response.body.collect(upTo: limit)
            return (response, body)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw S3Error(operation: request.operation, bucket: self.name, key: request.key, underlying: error)
        }
    }

    /// An ``S3Error`` from a non-2xx answer, reading its XML error document when there is one.
    func error(from response: HTTPClientResponse, _ request: S3Request) async -> S3Error {
        let body = try? await response.body.collect(upTo: 64 * 1024)
        return self.error(status: response.status.code, headers: response.headers, body: body, request)
    }

    /// An ``S3Error`` from a non-2xx answer's status, headers and (start of) body.
    func error(status: UInt, headers: HTTPHeaders, body: ByteBuffer?, _ request: S3Request) -> S3Error {
        var error = S3Error(
            operation: request.operation,
            bucket: self.name,
            key: request.key,
            status: Int(status),
            requestID: headers.first(name: "x-amz-request-id"),
            bucketRegion: headers.first(name: "x-amz-bucket-region")
        )
        if let body, body.readableBytes > 0 {
            Self.fill(&error, fromErrorDocument: Data(buffer: body))
        }
        if error.code == nil {
            // HEAD answers carry no body: name the cases the status alone tells (a 404 on an object may also be a
            // missing bucket, so it stays without a code).
            switch status {
            case 404 where request.key == nil: error.code = "NoSuchBucket"
            case 412: error.code = "PreconditionFailed"
            case 416: error.code = "InvalidRange"
            default: break
            }
        }
        return error
    }

    /// Reads `<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>` into `error`. Returns
    /// whether the document was an error document (S3 may answer 200 with one to CompleteMultipartUpload and
    /// CopyObject).
    @discardableResult
    static func fill(_ error: inout S3Error, fromErrorDocument data: Data) -> Bool {
        guard let tree = XMLTree.parse(data), tree.name == "Error" else { return false }
        error.code = tree.value("Code")
        error.message = tree.value("Message")
        error.requestID = tree.value("RequestId") ?? error.requestID
        if let region = tree.value("Region") { error.bucketRegion = region }
        return true
    }

    /// The URL, the encoded path (as signed) and the `Host` header of a request.
    private func location(of request: S3Request) -> (url: String, encodedPath: String, host: String) {
        let endpoint = self.configuration.endpoint
        let host = self.usesVirtualHost ? "\(self.name).\(endpoint.authority)" : endpoint.authority
        var path = self.usesVirtualHost ? "" : "/" + URIEncoding.encodePath(self.name)
        if let key = request.key {
            path += "/" + URIEncoding.encodePath(key)
        } else if self.usesVirtualHost {
            path = "/"
        }
        var url = (endpoint.isSecure ? "https://" : "http://") + host + path
        if !request.query.isEmpty {
            url +=
                "?"
                + request.query.map { "\(URIEncoding.encode($0.name))=\(URIEncoding.encode($0.value))" }.joined(
                    separator: "&"
                )
        }
        return (url, path, host)
    }
}
