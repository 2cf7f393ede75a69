/// A failed S3 request: the store's answer (HTTP status, S3 error code and message), or a transport failure (the store
/// could not be reached, the connection broke). Its description is one readable line for logs, without secrets:
///
///     S3 GetObject 'photos/a.jpg' failed: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does
///     not match... (request 18EB3E7BA6E20924)
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// The operation, as S3's API names it (`GetObject`, `ListObjectsV2`...).
    public var operation: String
    /// The bucket, and the key when the operation was about one.
    public var bucket: String
    public var key: String?
    /// The HTTP status, or nil when no answer came (transport failure).
    public var status: Int?
    /// S3's error code (`NoSuchKey`, `AccessDenied`, `SlowDown`...), when the answer had one.
    public var code: String?
    /// S3's message, when the answer had one.
    public var message: String?
    public var requestID: String?
    /// The region a `301 PermanentRedirect` names (`x-amz-bucket-region`): the bucket lives elsewhere.
    public var bucketRegion: String?
    /// The transport error, when no answer came.
    public var underlying: (any Error)?

    public init(
        operation: String,
        bucket: String,
        key: String? = nil,
        status: Int? = nil,
        code: String? = nil,
        message: String? = nil,
        requestID: String? = nil,
        bucketRegion: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.bucketRegion = bucketRegion
        self.underlying = underlying
    }

    /// Nothing there: `404` (`NoSuchKey`, `NoSuchUpload`...), but not a missing bucket.
    public var isNotFound: Bool { self.status == 404 && self.code != "NoSuchBucket" }

    /// The bucket does not exist.
    public var isNoSuchBucket: Bool { self.code == "NoSuchBucket" }

    /// The store refused the keys or the action: `403` (`AccessDenied`, `InvalidAccessKeyId`,
    /// `SignatureDoesNotMatch`...).
    public var isAccessDenied: Bool { self.status == 403 }

    /// The keys themselves are wrong (unknown access key, or a signature made with another secret).
    public var isBadCredentials: Bool {
        ["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId"]
            .contains(self.code ?? "")
    }

    /// A precondition (`If-Match`, `x-amz-copy-source-if-match`) failed: the object changed meanwhile.
    public var isPreconditionFailed: Bool { self.status == 412 || self.code == "PreconditionFailed" }

    /// A range past the end of the object (`416 InvalidRange`).
    public var isInvalidRange: Bool { self.status == 416 || self.code == "InvalidRange" }

    /// No answer came: the store is unreachable or the connection failed.
    public var isTransportFailure: Bool { self.status == nil }

    /// Worth trying again: a server-side failure, throttling, or a transport failure.
    public var isRetryable: Bool {
        if let code = self.code, Self.retryableCodes.contains(code) { return true }
        guard let status = self.status else { return true }
        return status == 429 || (500...599).contains(status)
    }

    private static let retryableCodes: Set<String> = [
        "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling", "ThrottlingException",
        "RequestThrottled", "RequestTimeTooSkewed", "RequestLimitExceeded", "TooManyRequestsException",
    ]

    public var description: String {
        var text = "S3 \(self.operation) "
        if let key = self.key {
            text += "'\(key)' in bucket '\(self.bucket)'"
        } else {
            text += "on bucket '\(self.bucket)'"
        }
        text += " failed: "
        if let status = self.status {
            text += "HTTP \(status)"
            if let code = self.code { text += " \(code)" }
            if let message = self.message, !message.isEmpty { text += ": \(message)" }
            if let hint = self.hint { text += " (\(hint))" }
            if let requestID = self.requestID { text += " [request \(requestID)]" }
        } else if let underlying = self.underlying {
            text += "no answer from the store: \(underlying)"
        } else {
            text += "no answer from the store"
        }
        return text
    }

    /// What a person should check, for the errors that have an obvious cause.
    public var hint: String? {
        switch self.code {
        case "InvalidAccessKeyId": "the access key is not known to the store"
        case "SignatureDoesNotMatch": "check the secret key"
        case "NoSuchBucket": "the bucket does not exist"
        case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
            self.bucketRegion.map { "the bucket is in region \($0); set region=\($0)" } ?? "check the region"
        case "ExpiredToken": "the session token has expired"
        default: nil
        }
    }
}
