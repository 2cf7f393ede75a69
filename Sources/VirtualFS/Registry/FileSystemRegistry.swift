/// Opens file systems from URLs (`osfs://./ftp-root`, `mem://`, `s3://...`), one opener per scheme.
///
/// ```swift
/// var registry = FileSystemRegistry.standard
/// registry.register(scheme: "s3") { url in try await S3FileSystem(url: url) }
/// let fileSystem = try await registry.open("osfs:///srv/ftp")
/// ```
public struct FileSystemRegistry: Sendable {
    /// Makes a file system from a parsed URL. Throws ``FileSystemURLError`` for a URL it cannot use.
    public typealias Opener = @Sendable (FileSystemURL) async throws -> any VirtualFileSystem

    private var openers: [String: Opener] = [:]

    /// A registry with no schemes.
    public init() {}

    /// A registry with the schemes of this module: `osfs` (``LocalFileSystem``; the resource is the root directory,
    /// `.` when empty) and `mem` (a new, empty ``MemoryFileSystem`` for each open).
    public static var standard: FileSystemRegistry {
        var registry = FileSystemRegistry()
        registry.register(scheme: "osfs") { url in try Self.openLocal(url) }
        registry.register(scheme: "mem") { _ in MemoryFileSystem() }
        return registry
    }

    /// Registers (or replaces) the opener of `scheme` (case-insensitive).
    public mutating func register(scheme: String, _ opener: @escaping Opener) {
        self.openers[scheme.lowercased()] = opener
    }

    /// The registered schemes, sorted.
    public var schemes: [String] { self.openers.keys.sorted() }

    /// Parses `url` and opens it with its scheme's opener.
    public func open(_ url: String) async throws -> any VirtualFileSystem {
        try await self.open(FileSystemURL(url))
    }

    /// Opens a parsed URL with its scheme's opener.
    public func open(_ url: FileSystemURL) async throws -> any VirtualFileSystem {
        guard let opener = self.openers[url.scheme] else {
            throw FileSystemURLError.unknownScheme(url.scheme, known: self.schemes)
        }
        return try await opener(url)
    }

    private static func openLocal(_ url: FileSystemURL) throws -> LocalFileSystem {
        let root = url.resource.isEmpty ? "." : url.resource
        do {
            return try LocalFileSystem(root: root)
        } catch let error as FileSystemError {
            let problem =
                switch error.code {
                case .notFound: "does not exist"
                case .notADirectory: "is not a directory"
                case .permissionDenied: "is not accessible (permission denied)"
                default: "cannot be opened (\(error.message ?? error.code.description))"
                }
            throw FileSystemURLError.cannotOpen("osfs root '\(root)' \(problem)")
        }
    }
}
