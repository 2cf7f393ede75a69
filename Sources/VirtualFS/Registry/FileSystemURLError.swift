/// Why a file system URL could not be opened. Its description is one line for a human, without passwords.
public struct FileSystemURLError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case malformed(url: String, reason: String)
        case unknownScheme(scheme: String, known: [String])
        case cannotOpen(message: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    /// The URL does not follow `scheme://[username[:password]@]resource[?key=value&...]`. `redactedURL` must not
    /// contain a password.
    public static func malformed(_ redactedURL: String, reason: String) -> FileSystemURLError {
        FileSystemURLError(.malformed(url: redactedURL, reason: reason))
    }

    /// No opener is registered for `scheme`; `known` are the registered ones.
    public static func unknownScheme(_ scheme: String, known: [String]) -> FileSystemURLError {
        FileSystemURLError(.unknownScheme(scheme: scheme, known: known))
    }

    /// An opener could not open the URL: `message` is one line for a human ("osfs root './x' does not exist"),
    /// without secrets. For openers of other schemes.
    public static func cannotOpen(_ message: String) -> FileSystemURLError {
        FileSystemURLError(.cannotOpen(message: message))
    }

    /// One line for a human, without secrets.
    public var description: String {
        switch self.kind {
        case .malformed(let url, let reason):
            "malformed file system URL '\(url)': \(reason)"
        case .unknownScheme(let scheme, let known):
            "unknown file system scheme '\(scheme)' (known: \(known.joined(separator: ", ")))"
        case .cannotOpen(let message):
            message
        }
    }
}
