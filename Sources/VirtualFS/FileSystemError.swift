/// The one error every backend throws. A struct over a private code, so that adding a code never breaks a backend
/// or a caller; compare with `error.code == .notFound`.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case notFound, alreadyExists, notEmpty, permissionDenied, notADirectory, notAFile
            case unsupported, invalidArgument, insufficientStorage, backend
        }

        fileprivate let base: Base

        /// Nothing at that path (or a parent is missing).
        public static let notFound = Code(base: .notFound)
        /// Something already exists at that path.
        public static let alreadyExists = Code(base: .alreadyExists)
        /// A directory to remove is not empty.
        public static let notEmpty = Code(base: .notEmpty)
        /// The backend refused (file permissions, a symbolic link leaving the root, a bucket policy...).
        public static let permissionDenied = Code(base: .permissionDenied)
        /// A directory was expected.
        public static let notADirectory = Code(base: .notADirectory)
        /// A file was expected.
        public static let notAFile = Code(base: .notAFile)
        /// The backend cannot do this at all (chmod on an object store).
        public static let unsupported = Code(base: .unsupported)
        /// An argument the backend cannot use (an offset past the end, a name it cannot store).
        public static let invalidArgument = Code(base: .invalidArgument)
        /// No space left.
        public static let insufficientStorage = Code(base: .insufficientStorage)
        /// Any other failure of the backend (I/O error, network...).
        public static let backend = Code(base: .backend)

        public var description: String {
            switch self.base {
            case .notFound: "not found"
            case .alreadyExists: "already exists"
            case .notEmpty: "directory not empty"
            case .permissionDenied: "permission denied"
            case .notADirectory: "not a directory"
            case .notAFile: "not a file"
            case .unsupported: "not supported by this storage"
            case .invalidArgument: "invalid argument"
            case .insufficientStorage: "no space left"
            case .backend: "storage error"
            }
        }
    }

    public var code: Code
    /// The path the operation was about.
    public var path: String
    /// A short explanation for logs (never shown raw to clients).
    public var message: String?
    /// The error underneath, if any.
    public var underlying: (any Error)?

    public init(_ code: Code, path: String, message: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.underlying = underlying
    }

    public static func notFound(_ path: String) -> FileSystemError { FileSystemError(.notFound, path: path) }
    public static func alreadyExists(_ path: String) -> FileSystemError { FileSystemError(.alreadyExists, path: path) }
    public static func notEmpty(_ path: String) -> FileSystemError { FileSystemError(.notEmpty, path: path) }
    public static func notADirectory(_ path: String) -> FileSystemError { FileSystemError(.notADirectory, path: path) }
    public static func notAFile(_ path: String) -> FileSystemError { FileSystemError(.notAFile, path: path) }
    public static func unsupported(_ path: String, _ message: String? = nil) -> FileSystemError {
        FileSystemError(.unsupported, path: path, message: message)
    }
    public static func permissionDenied(_ path: String, _ message: String? = nil) -> FileSystemError {
        FileSystemError(.permissionDenied, path: path, message: message)
    }

    public var description: String {
        var text = "\(self.path): \(self.code)"
        if let message = self.message { text += " (\(message))" }
        if let underlying = self.underlying { text += ": \(underlying)" }
        return text
    }
}
