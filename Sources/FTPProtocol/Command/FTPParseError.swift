/// Why a control line is not a command this server can run. A value, never thrown out of the framing: the session
/// answers it and goes on.
public struct FTPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The verb is not a command at all (reply 500).
        case unknownCommand
        /// A known verb with a bad argument (reply 501).
        case badArguments
        /// A known command this server does not implement (reply 502).
        case notImplemented
        /// A known command with a parameter this server does not implement (reply 504).
        case parameterNotImplemented
    }

    public var kind: Kind
    /// The verb, upper-cased (sanitized: printable ASCII only, at most 16 characters).
    public var verb: String
    /// What is wrong, for the reply text.
    public var message: String

    public init(_ kind: Kind, verb: String, message: String) {
        self.kind = kind
        self.verb = verb
        self.message = message
    }

    public var description: String { "\(self.verb): \(self.message)" }
}
