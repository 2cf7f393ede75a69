import Foundation
import VirtualFS

/// A file system that only knows which paths are directories and files, for checking homes.
struct UsersTestFileSystem: VirtualFileSystem {
    var directories: Set<String> = ["/"]
    var files: Set<String> = []
    /// Paths whose `info` fails with a backend error.
    var failing: Set<String> = []

    var capabilities: FileSystemCapabilities { [] }

    func info(_ path: String) async throws -> FileInfo {
        let name = path == "/" ? "/" : String(path.split(separator: "/").last ?? "")
        if self.failing.contains(path) {
            throw FileSystemError(.backend, path: path, message: "connection reset")
        }
        if self.directories.contains(path) {
            return FileInfo(name: name, kind: .directory)
        }
        if self.files.contains(path) {
            return FileInfo(name: name, kind: .file, size: 1)
        }
        throw FileSystemError.notFound(path)
    }

    func list(_ directory: String) async throws -> DirectoryListing { throw FileSystemError.unsupported(directory) }
    func makeDirectory(_ path: String) async throws { throw FileSystemError.unsupported(path) }
    func removeFile(_ path: String) async throws { throw FileSystemError.unsupported(path) }
    func removeDirectory(_ path: String) async throws { throw FileSystemError.unsupported(path) }
    func move(from source: String, to destination: String) async throws { throw FileSystemError.unsupported(source) }
    func setModificationTime(_ path: String, to date: Date) async throws { throw FileSystemError.unsupported(path) }
    func setMode(_ path: String, to mode: UInt32) async throws { throw FileSystemError.unsupported(path) }
    func openForReading(_ path: String, from offset: Int64) async throws -> any FileReader {
        throw FileSystemError.unsupported(path)
    }
    func openForWriting(_ path: String, mode: WriteMode) async throws -> any FileWriter {
        throw FileSystemError.unsupported(path)
    }
}

/// A credentials file in a fresh temporary directory, removed by `remove()`.
struct UsersTemporaryFile {
    let directory: URL
    let path: String

    init(contents: String, name: String = "credentials.txt") throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("fstpy-users-\(UUID())")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        self.path = self.directory.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: self.path))
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.directory)
    }
}
