/// Where an S3 API answers: `http` or `https`, a host and a port (AWS, MinIO, SeaweedFS, Ceph...).
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var isSecure: Bool
    /// The host name or address; an IPv6 address is written in brackets (`[::1]`).
    public var host: String
    /// The port; nil for the scheme's default.
    public var port: Int?

    public init(isSecure: Bool, host: String, port: Int? = nil) {
        self.isSecure = isSecure
        self.host = host
        self.port = port
    }

    /// Parses `http://HOST[:PORT]` or `https://HOST[:PORT]` (a trailing `/` is allowed, any other path is not).
    public init(url: String) throws(S3ConfigurationError) {
        let isSecure: Bool
        var rest: Substring
        if url.lowercased().hasPrefix("https://") {
            isSecure = true
            rest = url.dropFirst(8)
        } else if url.lowercased().hasPrefix("http://") {
            isSecure = false
            rest = url.dropFirst(7)
        } else {
            throw S3ConfigurationError("endpoint_url '\(url)' must start with http:// or https://")
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("@") else {
            throw S3ConfigurationError("endpoint_url '\(url)' must be http(s)://HOST[:PORT], without a path")
        }
        var host = rest
        var port: Int?
        if rest.hasPrefix("[") {
            // An IPv6 literal: [address] or [address]:port.
            guard let close = rest.firstIndex(of: "]") else {
                throw S3ConfigurationError("endpoint_url '\(url)' has an unterminated IPv6 address")
            }
            host = rest[...close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else {
                    throw S3ConfigurationError("endpoint_url '\(url)' has a bad port")
                }
                port = number
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let number = Int(rest[rest.index(after: colon)...]) else {
                throw S3ConfigurationError("endpoint_url '\(url)' has a bad port")
            }
            host = rest[..<colon]
            port = number
        }
        guard !host.isEmpty else { throw S3ConfigurationError("endpoint_url '\(url)' has no host") }
        if let port, !(1...65535).contains(port) {
            throw S3ConfigurationError("endpoint_url '\(url)' has a port out of range")
        }
        self.init(isSecure: isSecure, host: String(host), port: port == (isSecure ? 443 : 80) ? nil : port)
    }

    /// AWS's own endpoint for `region`.
    public static func aws(region: String) -> S3Endpoint {
        S3Endpoint(isSecure: true, host: "s3.\(region).amazonaws.com")
    }

    /// Whether this is an AWS endpoint (virtual-hosted addressing works there for any DNS-compatible bucket name).
    public var isAWS: Bool {
        self.host.lowercased().hasSuffix(".amazonaws.com")
    }

    /// `host[:port]`, as in a `Host` header.
    public var authority: String {
        self.port.map { "\(self.host):\($0)" } ?? self.host
    }

    public var description: String {
        (self.isSecure ? "https://" : "http://") + self.authority
    }
}

/// How the bucket appears in requests.
public enum S3AddressingStyle: String, Sendable, Hashable, CaseIterable {
    /// `https://endpoint/bucket/key`: works everywhere a bucket name is not a DNS label (MinIO, SeaweedFS, Ceph).
    case path
    /// `https://bucket.endpoint/key`: AWS's preferred form; needs the bucket name as a DNS label.
    case virtual
    /// Virtual-hosted on AWS when the bucket name allows it, path-style elsewhere (botocore's `auto`).
    case auto
}

/// A configuration that cannot work. Its description is one line without secrets.
public struct S3ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
