/// A file system URL in PyFilesystem2's opener syntax: `scheme://[username[:password]@]resource[?key=value&...]`.
///
/// ```
/// osfs://./ftp-root            local directory, relative to the current directory
/// osfs:///srv/ftp              local directory, absolute
/// mem://                       a fresh in-memory file system
/// s3://KEY:SECRET@bucket/prefix?endpoint_url=http://127.0.0.1:9000&strict=false
/// ```
///
/// Username, password and parameters are percent-decoded (in parameters `+` is a space too); the resource is
/// percent-decoded and keeps its slashes. The credentials end at the first `@` before the query, so a password
/// may contain `/` (as AWS secret keys do) but a literal `@` or `?` in it must be written `%40` or `%3F`. A string
/// without `://` is a local path, taken literally: `osfs` with that path as the resource.
///
/// Its `description` is the ``redacted`` form: the password never appears in logs.
public struct FileSystemURL: Sendable, Hashable, CustomStringConvertible {
    /// The scheme, lowercased: it picks the opener (`osfs`, `mem`, `s3`...).
    public let scheme: String
    /// The user name before the `@`, decoded.
    public let username: String?
    /// The password after `username:`, decoded.
    public let password: String?
    /// What the scheme opens (a directory, a bucket and prefix...), decoded; may be empty.
    public let resource: String
    /// The query parameters, decoded. A key given twice keeps its first value.
    public let parameters: [String: String]
    /// The string this was parsed from. Contains the password: never log it, log ``redacted``.
    public let original: String

    /// The URL with the password (and parameters that look like secrets) replaced by `***`, for logs and errors.
    public let redacted: String

    /// Parses `string`. Throws ``FileSystemURLError`` when it is malformed.
    public init(_ string: String) throws(FileSystemURLError) {
        self.original = string
        guard let separator = string.firstRange(of: "://") else {
            // A bare path.
            self.scheme = "osfs"
            self.username = nil
            self.password = nil
            self.resource = string
            self.parameters = [:]
            self.redacted = string
            return
        }
        let scheme = String(string[..<separator.lowerBound])
        guard Self.isValidScheme(scheme) else {
            throw .malformed(Self.redact(string), reason: "the scheme must be letters, digits, '+', '-' or '.'")
        }
        self.scheme = scheme.lowercased()

        var rest = string[separator.upperBound...]
        let queryStart = rest.firstIndex(of: "?")
        var redacted = self.scheme + "://"
        if let at = rest.firstIndex(of: "@"), queryStart.map({ at < $0 }) ?? true {
            let credentials = rest[..<at]
            let (rawUser, rawPassword) = Self.split(credentials, at: ":")
            self.username = try Self.decode(rawUser, string)
            if let rawPassword {
                self.password = try Self.decode(rawPassword, string)
            } else {
                self.password = nil
            }
            redacted += rawUser + (rawPassword == nil ? "" : ":***") + "@"
            rest = rest[rest.index(after: at)...]
        } else {
            self.username = nil
            self.password = nil
        }

        let (rawResource, rawQuery) = Self.split(rest, at: "?")
        self.resource = try Self.decode(rawResource, string)
        redacted += rawResource
        var parameters: [String: String] = [:]
        if let rawQuery {
            var redactedPairs: [String] = []
            for pair in rawQuery.split(separator: "&") {
                let (rawKey, rawValue) = Self.split(pair, at: "=")
                let key = try Self.decode(rawKey, string, plusIsSpace: true)
                let value = try Self.decode(rawValue ?? "", string, plusIsSpace: true)
                if parameters[key] == nil { parameters[key] = value }
                redactedPairs.append(Self.looksSecret(key) ? rawKey + "=***" : String(pair))
            }
            redacted += "?" + redactedPairs.joined(separator: "&")
        }
        self.parameters = parameters
        self.redacted = redacted
    }

    /// The ``redacted`` form.
    public var description: String { self.redacted }

    /// A scheme is `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986 §3.1).
    private static func isValidScheme(_ scheme: String) -> Bool {
        guard let first = scheme.unicodeScalars.first, first.isASCIILetter else { return false }
        return scheme.unicodeScalars.allSatisfy {
            $0.isASCIILetter || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)
        }
    }

    private static func looksSecret(_ key: String) -> Bool {
        let key = key.lowercased()
        return ["password", "secret", "token", "passwd"].contains { key.contains($0) }
    }

    private static func split(_ text: Substring, at separator: Character) -> (Substring, Substring?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (text[..<index], text[text.index(after: index)...])
    }

    /// Percent-decodes `text` (and `+` as a space in query parameters).
    private static func decode(
        _ text: Substring,
        _ url: String,
        plusIsSpace: Bool = false
    ) throws(FileSystemURLError) -> String {
        guard text.contains("%") || (plusIsSpace && text.contains("+")) else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let byte = utf8.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = utf8.next().flatMap(Self.hexValue), let low = utf8.next().flatMap(Self.hexValue) else {
                    throw .malformed(Self.redact(url), reason: "bad percent escape")
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(Self.redact(url), reason: "percent escapes are not UTF-8")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Best effort for a string that did not parse: hides whatever sits between `user:` and `@`.
    static func redact(_ string: String) -> String {
        guard let separator = string.firstRange(of: "://"),
            let at = string[separator.upperBound...].firstIndex(of: "@"),
            let colon = string[separator.upperBound..<at].firstIndex(of: ":")
        else { return string }
        return String(string[..<string.index(after: colon)]) + "***" + String(string[at...])
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
