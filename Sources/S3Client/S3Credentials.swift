import Foundation

/// An access key, its secret, and a session token for temporary credentials. Its `description` shows the access key
/// only: the secret and the token never reach a log.
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// The `X-Amz-Security-Token` of temporary credentials (STS), signed with every request.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "access key '\(self.accessKeyID)'" + (self.sessionToken == nil ? "" : " (with a session token)")
    }

    /// Where credentials were found, for messages.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        case environment
        case sharedCredentialsFile(path: String, profile: String)

        public var description: String {
            switch self {
            case .environment: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            case .sharedCredentialsFile(let path, let profile): "profile '\(profile)' of \(path)"
            }
        }
    }

    /// The AWS tools' usual order: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), then the
    /// shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`) at profile `AWS_PROFILE`
    /// (default `default`). Nil when neither has keys; throws ``S3CredentialsError`` for a half-given pair or an
    /// unreadable or malformed file.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(S3CredentialsError) -> (S3Credentials, Source)? {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        switch (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY")) {
        case (let key?, let secret?):
            return (
                S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN")),
                .environment
            )
        case (.some, nil):
            throw S3CredentialsError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, .some):
            throw S3CredentialsError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (nil, nil):
            break
        }
        let explicitFile = value("AWS_SHARED_CREDENTIALS_FILE")
        let path: String
        if let explicitFile {
            path = explicitFile
        } else if let home = value("HOME") {
            path = home + "/.aws/credentials"
        } else {
            return nil
        }
        let profile = value("AWS_PROFILE") ?? "default"
        guard FileManager.default.fileExists(atPath: path) else {
            if explicitFile != nil { throw S3CredentialsError("AWS_SHARED_CREDENTIALS_FILE '\(path)' does not exist") }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw S3CredentialsError("cannot read the shared credentials file '\(path)'")
        }
        let sections = try Self.parseSharedCredentials(String(decoding: data, as: UTF8.self), path: path)
        guard let section = sections[profile] else {
            // A file without the asked profile is an error only when the profile was asked for by name.
            if environment["AWS_PROFILE"] != nil {
                throw S3CredentialsError("profile '\(profile)' not found in '\(path)'")
            }
            return nil
        }
        guard let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] else {
            throw S3CredentialsError(
                "profile '\(profile)' of '\(path)' needs both aws_access_key_id and aws_secret_access_key"
            )
        }
        return (
            S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"]),
            .sharedCredentialsFile(path: path, profile: profile)
        )
    }

    /// Parses the INI format of `~/.aws/credentials`: `[profile]` sections of `key = value` lines; `#` and `;` start
    /// comment lines. Keys are lower-cased. Written here because none of the packages this project uses reads it.
    package static func parseSharedCredentials(
        _ text: String,
        path: String
    ) throws(S3CredentialsError) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw S3CredentialsError("\(path):\(index + 1): a section header must end with ']'")
                }
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                // ~/.aws/config writes [profile NAME]; accept it here too.
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw S3CredentialsError("\(path):\(index + 1): expected 'key = value'")
            }
            guard let section = current else {
                throw S3CredentialsError("\(path):\(index + 1): a setting before any [profile] header")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        return sections
    }
}

/// Credentials that were given but cannot be used. Its description is one line without secrets.
public struct S3CredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
