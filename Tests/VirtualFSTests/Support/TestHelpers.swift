import Foundation
import NIOCore
import S3Client
import S3FS
import S3Testing
import Testing
import VirtualFS

/// The backends the conformance suite runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case local
    case subMemory
    case subLocal
    /// S3FileSystem on a real S3 server (SeaweedFS, started by the tests), below a key prefix.
    case s3

    var testDescription: String { self.rawValue }

    /// The backends this machine can run: S3 needs SeaweedFS (installed by scripts/seaweedfs; required in CI).
    static var testCases: [Backend] {
        SeaweedFS.isUsable ? Self.allCases : Self.allCases.filter { $0 != .s3 }
    }

    /// What the backend can do: an object store sets no modes and no modification times.
    var capabilities: FileSystemCapabilities {
        self == .s3 ? [.append, .resume] : [.setMode, .setModificationTime, .append, .resume]
    }

    /// Whether entries carry a stable identity (MLSx `unique`): an object store has none.
    var hasUniqueIDs: Bool { self != .s3 }

    /// Runs `body` with a fresh, empty file system of this kind, then cleans up.
    func withFileSystem(_ body: (any VirtualFileSystem) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(MemoryFileSystem())
        case .local:
            try await withTemporaryDirectory { directory in
                try await body(LocalFileSystem(root: directory))
            }
        case .subMemory:
            let base = MemoryFileSystem()
            try await base.makeDirectory("/home")
            try await base.makeDirectory("/home/alice")
            try await body(SubFileSystem(base: base, root: "/home/alice"))
        case .subLocal:
            try await withTemporaryDirectory { directory in
                let base = try LocalFileSystem(root: directory)
                try await base.makeDirectory("/home")
                try await base.makeDirectory("/home/alice")
                try await body(SubFileSystem(base: base, root: "/home/alice"))
            }
        case .s3:
            try await SeaweedFS.withBucket("conformance") { _, bucket in
                var configuration = S3FileSystem.Configuration()
                configuration.partSize = S3Bucket.minimumPartSize
                try await body(S3FileSystem(bucket: bucket, prefix: "conformance/root", configuration: configuration))
            }
        }
    }
}

/// Runs `body` with a new temporary directory, removed afterwards.
func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let directory = NSTemporaryDirectory() + "/vfs-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await body(directory)
}

extension VirtualFileSystem {
    /// Writes `text` to `path` and commits.
    func write(_ path: String, _ text: String, mode: WriteMode = .replace) async throws {
        let writer = try await self.openForWriting(path, mode: mode)
        do {
            try await writer.write(ByteBuffer(string: text))
            try await writer.commit()
        } catch {
            await writer.abort()
            throw error
        }
    }

    /// The whole content of `path` from `offset`, as text.
    func read(_ path: String, from offset: Int64 = 0) async throws -> String {
        var all = try await self.readBytes(path, from: offset)
        return all.readString(length: all.readableBytes) ?? ""
    }

    /// The whole content of `path` from `offset`, and the chunks it came in.
    func readBytes(_ path: String, from offset: Int64 = 0) async throws -> ByteBuffer {
        try await self.readChunks(path, from: offset).reduce(into: ByteBuffer()) { $0.writeImmutableBuffer($1) }
    }

    func readChunks(_ path: String, from offset: Int64 = 0) async throws -> [ByteBuffer] {
        let reader = try await self.openForReading(path, from: offset)
        var chunks: [ByteBuffer] = []
        do {
            while let chunk = try await reader.read() { chunks.append(chunk) }
        } catch {
            try await reader.close()
            throw error
        }
        try await reader.close()
        return chunks
    }

    /// The pages of a listing.
    func pages(_ directory: String) async throws -> [[FileInfo]] {
        var pages: [[FileInfo]] = []
        for try await page in try await self.list(directory) { pages.append(page) }
        return pages
    }

    /// The names in a directory, sorted.
    func names(_ directory: String) async throws -> [String] {
        try await self.pages(directory).joined().map(\.name).sorted()
    }
}

/// Expects `body` to throw a ``FileSystemError`` with `code` (and `path`, when given).
func expectError(
    _ code: FileSystemError.Code,
    path: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as FileSystemError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let path { #expect(error.path == path, "\(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
