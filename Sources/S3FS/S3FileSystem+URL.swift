import Foundation
import Logging
import S3Client
import VirtualFS

extension S3FileSystem {
    /// The query parameters an `s3://` URL takes: fs-s3fs's (`endpoint_url`, `region`, `strict`, `acl`,
    /// `cache_control`) and botocore's `addressing_style` and `payload_signing` (its `payload_signing_enabled`).
    public static let urlParameters = [
        "endpoint_url", "region", "strict", "addressing_style", "payload_signing", "acl", "cache_control",
    ]

    /// Opens `s3://[KEY:SECRET@]bucket[/dir/prefix][?endpoint_url=URL&region=R&strict=0|1&addressing_style=path|
    /// virtual|auto&payload_signing=1|0&acl=ACL&cache_control=VALUE]`, the URL of PyFilesystem2's fs-s3fs, and checks
    /// that the bucket answers with these keys (one ListObjectsV2).
    ///
    /// `payload_signing` chooses whether uploads sign the SHA-256 of their bytes (default: yes over `http`, where the
    /// signature is the only integrity check, no over `https`, as botocore); `0` over `http` saves the hash's CPU time
    /// on a trusted network (loopback, a private link to the store).
    ///
    /// Keys missing from the URL come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`),
    /// then from the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`, profile
    /// `AWS_PROFILE` or `default`). The region defaults to `AWS_REGION`, `AWS_DEFAULT_REGION`, then `us-east-1`; the
    /// endpoint to AWS's for the region. Every failure is a ``FileSystemURLError`` whose description is one line for
    /// a human, without the secret.
    public static func open(
        _ url: FileSystemURL,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "fstpy.s3")
    ) async throws -> S3FileSystem {
        let fileSystem = try Self.make(url, environment: environment, configuration: configuration, logger: logger)
        try await fileSystem.checkAccess(url)
        return fileSystem
    }

    /// Builds the file system from the URL without contacting the store.
    public static func make(
        _ url: FileSystemURL,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "fstpy.s3")
    ) throws(FileSystemURLError) -> S3FileSystem {
        func malformed(_ reason: String) -> FileSystemURLError { .malformed(url.redacted, reason: reason) }
        guard url.scheme == "s3" else { throw malformed("not an s3:// URL") }
        let resource = Substring(url.resource)
        let bucketName = String(resource.prefix { $0 != "/" })
        let prefix = String(resource.dropFirst(bucketName.count))
        guard !bucketName.isEmpty else { throw malformed("no bucket: write s3://[KEY:SECRET@]BUCKET[/PREFIX]") }
        if prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            throw malformed("the prefix must not contain '.' or '..'")
        }
        if let unknown = url.parameters.keys.sorted().first(where: { !Self.urlParameters.contains($0) }) {
            throw malformed(
                "unknown parameter '\(unknown)' (known: \(Self.urlParameters.joined(separator: ", ")))"
            )
        }

        let credentials: S3Credentials
        switch (url.username.flatMap { $0.isEmpty ? nil : $0 }, url.password.flatMap { $0.isEmpty ? nil : $0 }) {
        case (let key?, let secret?):
            credentials = S3Credentials(accessKeyID: key, secretAccessKey: secret)
        case (.some, nil):
            throw malformed("an access key without a secret key: write s3://KEY:SECRET@BUCKET")
        case (nil, .some):
            throw malformed("a secret key without an access key: write s3://KEY:SECRET@BUCKET")
        case (nil, nil):
            do {
                guard let (found, _) = try S3Credentials.resolve(environment: environment) else {
                    throw FileSystemURLError.cannotOpen(
                        "no S3 keys for \(url.redacted): put KEY:SECRET@ in the URL, set AWS_ACCESS_KEY_ID and "
                            + "AWS_SECRET_ACCESS_KEY, or write ~/.aws/credentials"
                    )
                }
                credentials = found
            } catch let error as S3CredentialsError {
                throw FileSystemURLError.cannotOpen("S3 keys: \(error)")
            } catch let error as FileSystemURLError {
                throw error
            } catch {
                throw FileSystemURLError.cannotOpen("S3 keys: \(error)")
            }
        }

        func nonEmpty(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let region =
            url.parameters["region"].flatMap { $0.isEmpty ? nil : $0 } ?? nonEmpty("AWS_REGION")
            ?? nonEmpty("AWS_DEFAULT_REGION") ?? "us-east-1"
        let endpoint: S3Endpoint
        if let endpointURL = url.parameters["endpoint_url"], !endpointURL.isEmpty {
            do {
                endpoint = try S3Endpoint(url: endpointURL)
            } catch {
                throw malformed(error.description)
            }
        } else {
            endpoint = .aws(region: region)
        }
        var configuration = configuration
        if let strict = url.parameters["strict"] {
            guard let value = Self.flag(strict) else { throw malformed("strict must be 1 or 0, not '\(strict)'") }
            configuration.isStrict = value
        }
        var addressing = S3AddressingStyle.auto
        if let style = url.parameters["addressing_style"] {
            guard let parsed = S3AddressingStyle(rawValue: style.lowercased()) else {
                throw malformed("addressing_style must be path, virtual or auto, not '\(style)'")
            }
            addressing = parsed
        }
        var bucketConfiguration = S3Bucket.Configuration(
            endpoint: endpoint,
            region: region,
            credentials: credentials,
            addressingStyle: addressing
        )
        if let signing = url.parameters["payload_signing"] {
            guard let value = Self.flag(signing) else {
                throw malformed("payload_signing must be 1 or 0, not '\(signing)'")
            }
            bucketConfiguration.signsPayload = value
        }
        if let acl = url.parameters["acl"], !acl.isEmpty {
            bucketConfiguration.objectHeaders.append(("x-amz-acl", acl))
        }
        if let cacheControl = url.parameters["cache_control"], !cacheControl.isEmpty {
            bucketConfiguration.objectHeaders.append(("cache-control", cacheControl))
        }
        let bucket: S3Bucket
        do {
            bucket = try S3Bucket(name: bucketName, configuration: bucketConfiguration, logger: logger)
        } catch {
            throw malformed(error.description)
        }
        return S3FileSystem(bucket: bucket, prefix: prefix, configuration: configuration, logger: logger)
    }

    /// A yes/no query value: 1/0, true/false, yes/no, on/off; nil for anything else.
    private static func flag(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: nil
        }
    }

    /// Lists one key of the root to prove that the bucket exists and the keys work; explains a failure in one line.
    public func checkAccess(_ url: FileSystemURL? = nil) async throws(FileSystemURLError) {
        do {
            _ = try await self.bucket.listObjects(prefix: self.prefix, delimiter: "/", maxKeys: 1)
        } catch let error as S3Error {
            throw .cannotOpen(self.explain(error))
        } catch {
            throw .cannotOpen("S3 bucket '\(self.bucket.name)' at \(self.bucket.configuration.endpoint): \(error)")
        }
    }

    /// One line for a person about why the bucket cannot be used.
    func explain(_ error: S3Error) -> String {
        let bucket = self.bucket.name
        let endpoint = self.bucket.configuration.endpoint
        let key = self.bucket.configuration.credentials.accessKeyID
        if error.isTransportFailure {
            return "cannot reach S3 at \(endpoint): \(error.underlying.map { "\($0)" } ?? "no answer")"
        }
        switch error.code {
        case "NoSuchBucket":
            return "S3 bucket '\(bucket)' does not exist at \(endpoint)"
        case "InvalidAccessKeyId":
            return "S3 at \(endpoint) does not know the access key '\(key)' (InvalidAccessKeyId)"
        case "SignatureDoesNotMatch":
            return "S3 at \(endpoint) rejected the secret key of access key '\(key)' (SignatureDoesNotMatch)"
        case "AccessDenied":
            return "S3 at \(endpoint) denied access key '\(key)' the listing of bucket '\(bucket)' (AccessDenied)"
        case "PermanentRedirect", "AuthorizationHeaderMalformed":
            if let region = error.bucketRegion {
                return "S3 bucket '\(bucket)' is in region \(region), not \(self.bucket.configuration.region): "
                    + "add region=\(region) to the URL"
            }
            return "S3 bucket '\(bucket)' is not in region \(self.bucket.configuration.region): set region= in the URL"
        default:
            return "S3 bucket '\(bucket)' at \(endpoint) cannot be used: \(error)"
        }
    }
}
