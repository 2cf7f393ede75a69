import Foundation
import NIOCore
import Testing
import VirtualFS

/// A view of a base file system rooted at a home directory.
@Suite("SubFileSystem")
struct SubFileSystemTests {
    private func makeHome() async throws -> (MemoryFileSystem, SubFileSystem) {
        let base = MemoryFileSystem()
        try await base.makeDirectory("/home")
        try await base.makeDirectory("/home/alice")
        try await base.write("/secret", "top")
        return (base, SubFileSystem(base: base, root: "/home/alice/"))
    }

    @Test func pathsMapUnderTheRoot() async throws {
        let (base, home) = try await makeHome()
        #expect(home.root == "/home/alice")
        try await home.makeDirectory("/docs")
        try await home.write("/docs/a.txt", "A")
        #expect(try await base.read("/home/alice/docs/a.txt") == "A")
        #expect(try await home.names("/") == ["docs"])
        #expect(try await home.info("/").name == "/")
        #expect(try await home.info("/docs").name == "docs")
        await expectError(.notFound, path: "/secret") { _ = try await home.info("/secret") }
    }

    @Test func errorsCarryPathsOfTheView() async throws {
        let (_, home) = try await makeHome()
        try await home.write("/f", "x")
        await expectError(.notFound, path: "/missing") { _ = try await home.openForReading("/missing", from: 0) }
        await expectError(.notADirectory, path: "/f") { _ = try await home.list("/f") }
        await expectError(.alreadyExists, path: "/f") { try await home.makeDirectory("/f") }
        await expectError(.invalidArgument, path: "/f") {
            _ = try await home.openForWriting("/f", mode: .resume(at: 10))
        }
        await expectError(.permissionDenied, path: "/") { try await home.removeDirectory("/") }

        // The directory vanishes while an upload runs: the error at commit carries the view's path too.
        try await home.makeDirectory("/gone")
        let writer = try await home.openForWriting("/gone/f", mode: .append)
        try await home.removeDirectory("/gone")
        try await writer.write(ByteBuffer(string: "x"))
        await expectError(.notFound, path: "/gone/f") { try await writer.commit() }
    }

    @Test func rootViewIsTheBase() async throws {
        let (base, _) = try await makeHome()
        let view = SubFileSystem(base: base, root: "/")
        #expect(try await view.names("/") == ["home", "secret"])
        await expectError(.notFound, path: "/nothing") { _ = try await view.info("/nothing") }
    }
}
