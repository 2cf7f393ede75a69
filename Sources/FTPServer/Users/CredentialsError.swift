/// A credentials file cannot be used, in one line that names the place:
/// `credentials.txt:3: unknown permission letter 'x' (allowed: elradfmwMT)`.
///
/// Never contains a password or a password's digest.
public struct CredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (its path, or the name given to ``CredentialsFile/parse(_:source:secrets:)``).
    public var source: String
    /// The line the problem is on (1-based), or nil for the file as a whole (missing, unreadable).
    public var line: Int?
    /// What is wrong, without the place.
    public var message: String

    /// An error at `source:line`.
    public init(source: String, line: Int? = nil, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    /// `source:line: message`, or `source: message` without a line.
    public var description: String {
        if let line = self.line {
            return "\(self.source):\(line): \(self.message)"
        }
        return "\(self.source): \(self.message)"
    }
}
