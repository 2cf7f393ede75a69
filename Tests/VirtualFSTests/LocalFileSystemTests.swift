import Foundation
import NIOCore
import Testing
import VirtualFS

/// What only the local backend has: symbolic links, the root directory, descriptors for sendfile.
@Suite("LocalFileSystem")
struct LocalFileSystemTests {
    /// A root directory and a sibling outside it, with a secret file outside.
    private func withRootAndOutside(_ body: (LocalFileSystem, String, String) async throws -> Void) async throws {
        try await withTemporaryDirectory { directory in
            let root = directory + "/root"
            let outside = directory + "/outside"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
            try "secret".write(toFile: outside + "/secret.txt", atomically: false, encoding: .utf8)
            try await body(LocalFileSystem(root: root), root, outside)
        }
    }

    @Test func linksOutOfTheRootAreRefused() async throws {
        try await withRootAndOutside { fs, root, outside in
            let manager = FileManager.default
            try manager.createSymbolicLink(atPath: root + "/out", withDestinationPath: outside)
            try manager.createSymbolicLink(atPath: root + "/outfile", withDestinationPath: outside + "/secret.txt")
            try manager.createSymbolicLink(atPath: root + "/up", withDestinationPath: "..")

            for path in ["/out", "/out/secret.txt", "/outfile", "/up", "/up/outside/secret.txt"] {
                await expectError(.permissionDenied) { _ = try await fs.info(path) }
            }
            await expectError(.permissionDenied) { _ = try await fs.openForReading("/outfile", from: 0) }
            await expectError(.permissionDenied) { _ = try await fs.openForReading("/out/secret.txt", from: 0) }
            await expectError(.permissionDenied) { _ = try await fs.list("/out") }
            await expectError(.permissionDenied) { _ = try await fs.list("/up") }
            await expectError(.permissionDenied) { _ = try await fs.openForWriting("/out/new", mode: .replace) }
            await expectError(.permissionDenied) { _ = try await fs.openForWriting("/outfile", mode: .replace) }
            await expectError(.permissionDenied) { _ = try await fs.openForWriting("/outfile", mode: .append) }
            await expectError(.permissionDenied) { _ = try await fs.openForWriting("/outfile", mode: .resume(at: 0)) }
            await expectError(.permissionDenied) { try await fs.makeDirectory("/out/dir") }
            await expectError(.permissionDenied) { try await fs.removeFile("/out/secret.txt") }
            await expectError(.permissionDenied) { try await fs.setMode("/outfile", to: 0o777) }
            await expectError(.permissionDenied) { try await fs.move(from: "/out/secret.txt", to: "/stolen") }

            // The listing shows the links as links, without following them.
            let entries = try await fs.pages("/").joined().sorted { $0.name < $1.name }
            #expect(entries.map(\.name) == ["out", "outfile", "up"])
            #expect(entries.allSatisfy { $0.kind == .symbolicLink })
            #expect(try String(contentsOfFile: outside + "/secret.txt", encoding: .utf8) == "secret")
            #expect(try manager.contentsOfDirectory(atPath: outside) == ["secret.txt"])
        }
    }

    @Test func danglingLinksCannotCreateFilesOutside() async throws {
        try await withRootAndOutside { fs, root, outside in
            try FileManager.default.createSymbolicLink(atPath: root + "/dangle", withDestinationPath: outside + "/new")
            await expectError(.permissionDenied) { try await fs.write("/dangle", "x", mode: .append) }
            await expectError(.permissionDenied) { try await fs.write("/dangle", "x", mode: .resume(at: 0)) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["secret.txt"])

            // A replace replaces the link itself.
            try await fs.write("/dangle", "inside")
            #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["secret.txt"])
            #expect(try await fs.info("/dangle").kind == .file)
            #expect(try await fs.read("/dangle") == "inside")
        }
    }

    @Test func linksInsideTheRootWork() async throws {
        try await withRootAndOutside { fs, root, _ in
            try await fs.makeDirectory("/real")
            try await fs.write("/real/f", "content")
            try FileManager.default.createSymbolicLink(atPath: root + "/alias", withDestinationPath: "real")
            try FileManager.default.createSymbolicLink(atPath: root + "/real/link", withDestinationPath: "f")

            #expect(try await fs.info("/alias").kind == .directory)
            #expect(try await fs.info("/alias").name == "alias")
            #expect(try await fs.read("/alias/f") == "content")
            #expect(try await fs.read("/real/link") == "content")
            #expect(try await fs.names("/alias") == ["f", "link"])
            let entries = try await fs.pages("/").joined()
            #expect(entries.map(\.kind) == [.directory, .directory])

            try await fs.write("/alias/g", "via link")
            #expect(try await fs.read("/real/g") == "via link")
            // Removing a link removes the link, not its target.
            try await fs.removeFile("/real/link")
            #expect(try await fs.read("/real/f") == "content")
        }
    }

    @Test func rootIsResolvedAndChecked() async throws {
        try await withTemporaryDirectory { directory in
            try "x".write(toFile: directory + "/file", atomically: false, encoding: .utf8)
            #expect(throws: FileSystemError.self) { try LocalFileSystem(root: directory + "/missing") }
            do {
                _ = try LocalFileSystem(root: directory + "/missing")
            } catch let error as FileSystemError {
                #expect(error.code == .notFound)
            }
            do {
                _ = try LocalFileSystem(root: directory + "/file")
            } catch let error as FileSystemError {
                #expect(error.code == .notADirectory)
            }

            let relative = relativePath(to: directory)
            #expect(!relative.hasPrefix("/"))
            let fs = try LocalFileSystem(root: relative)
            #expect(fs.rootPath == realPath(directory))
            #expect(try await fs.names("/") == ["file"])
        }
    }

    @Test func nulInPathsIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let fs = try LocalFileSystem(root: directory)
            await expectError(.invalidArgument) { _ = try await fs.info("/a\0b") }
            await expectError(.invalidArgument) { try await fs.makeDirectory("/a\0b") }
            await expectError(.invalidArgument) { _ = try await fs.info("/a/../b") }
        }
    }

    @Test func uploadTemporariesAreNeverListed() async throws {
        try await withTemporaryDirectory { directory in
            let fs = try LocalFileSystem(root: directory)
            try "x".write(
                toFile: directory + "/" + LocalFileSystem.temporaryFilePrefix + "leftover.tmp",
                atomically: false,
                encoding: .utf8
            )
            try await fs.write("/visible", "x")
            #expect(try await fs.names("/") == ["visible"])

            // Nor can a client create a name that would hide that way.
            let hidden = "/" + LocalFileSystem.temporaryFilePrefix + "mine.tmp"
            await expectError(.invalidArgument) { try await fs.write(hidden, "x") }
            await expectError(.invalidArgument) { try await fs.makeDirectory(hidden) }
            await expectError(.invalidArgument) { try await fs.move(from: "/visible", to: hidden) }
        }
    }

    @Test func replaceKeepsThePreviousMode() async throws {
        try await withTemporaryDirectory { directory in
            let fs = try LocalFileSystem(root: directory)
            try await fs.write("/f", "one")
            try await fs.setMode("/f", to: 0o640)
            try await fs.write("/f", "two")
            #expect(try await fs.info("/f").mode == 0o640)
        }
    }

    @Test func uniqueIDsAreDeviceAndInode() async throws {
        try await withTemporaryDirectory { directory in
            let fs = try LocalFileSystem(root: directory)
            try await fs.write("/f", "x")
            let id = try #require(try await fs.info("/f").uniqueID)
            let parts = id.split(separator: "g")
            #expect(parts.count == 2)
            #expect(parts.allSatisfy { UInt64($0, radix: 16) != nil })
        }
    }

    @Test func sendfileSourceCoversTheRestOfTheFile() async throws {
        try await withTemporaryDirectory { directory in
            let fs = try LocalFileSystem(root: directory)
            try await fs.write("/f", String(repeating: "x", count: 1000))
            let reader = try await fs.openForReading("/f", from: 100)
            let source = try #require(reader.sendfileSource)
            #expect(source.offset == 100)
            #expect(source.end == 1000)
            #expect(source.handle.isOpen)
            try await reader.close()
            #expect(!source.handle.isOpen)
            try await reader.close()

            let pastEnd = try await fs.openForReading("/f", from: 5000)
            #expect(pastEnd.sendfileSource?.offset == 1000)
            #expect(try await pastEnd.read() == nil)
            try await pastEnd.close()

            let memory = MemoryFileSystem()
            try await memory.write("/f", "x")
            #expect(try await memory.openForReading("/f", from: 0).sendfileSource == nil)
        }
    }
}

/// A relative path from the current directory to `path`.
func relativePath(to path: String) -> String {
    let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
    return String(repeating: "../", count: depth) + path.drop { $0 == "/" }
}

func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
