import Foundation
import NIOCore
import Testing
import VirtualFS

/// The contract every backend meets, run against each of them.
@Suite("Conformance")
struct ConformanceTests {
    @Test(arguments: Backend.testCases)
    func capabilities(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            #expect(fs.capabilities == backend.capabilities)
        }
    }

    @Test(arguments: Backend.testCases)
    func info(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            let root = try await fs.info("/")
            #expect(root.name == "/")
            #expect(root.kind == .directory)

            try await fs.write("/a.txt", "hello")
            let file = try await fs.info("/a.txt")
            #expect(file.name == "a.txt")
            #expect(file.kind == .file)
            #expect(file.size == 5)
            #expect(file.modificationTime != nil)
            if backend.capabilities.contains(.setMode) { #expect(file.mode != nil) }
            if backend.hasUniqueIDs {
                #expect(file.uniqueID != nil)
                #expect(file.uniqueID != root.uniqueID)
            }

            await expectError(.notFound, path: "/missing") { _ = try await fs.info("/missing") }
            await expectError(.notFound, path: "/missing/deeper") { _ = try await fs.info("/missing/deeper") }
        }
    }

    @Test(arguments: Backend.testCases)
    func directories(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.makeDirectory("/d")
            #expect(try await fs.info("/d").kind == .directory)
            await expectError(.alreadyExists, path: "/d") { try await fs.makeDirectory("/d") }
            await expectError(.notFound) { try await fs.makeDirectory("/missing/x") }

            try await fs.write("/d/f", "x")
            await expectError(.alreadyExists) { try await fs.makeDirectory("/d/f") }
            await expectError(.notEmpty, path: "/d") { try await fs.removeDirectory("/d") }
            await expectError(.notAFile, path: "/d") { try await fs.removeFile("/d") }
            await expectError(.notADirectory, path: "/d/f") { try await fs.removeDirectory("/d/f") }
            await expectError(.permissionDenied) { try await fs.removeDirectory("/") }

            try await fs.removeFile("/d/f")
            await expectError(.notFound, path: "/d/f") { try await fs.removeFile("/d/f") }
            try await fs.removeDirectory("/d")
            await expectError(.notFound, path: "/d") { _ = try await fs.info("/d") }
            await expectError(.notFound, path: "/d") { try await fs.removeDirectory("/d") }
        }
    }

    @Test(arguments: Backend.testCases)
    func list(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            #expect(try await fs.names("/") == [])
            try await fs.makeDirectory("/d")
            try await fs.write("/d/b", "bb")
            try await fs.write("/d/a", "a")
            try await fs.makeDirectory("/d/c")

            let entries = try await fs.pages("/d").joined().sorted { $0.name < $1.name }
            #expect(entries.map(\.name) == ["a", "b", "c"])
            #expect(entries.map(\.kind) == [.file, .file, .directory])
            #expect(entries.map(\.size).prefix(2) == [1, 2])

            await expectError(.notADirectory, path: "/d/a") { _ = try await fs.list("/d/a") }
            await expectError(.notFound, path: "/missing") { _ = try await fs.list("/missing") }
        }
    }

    @Test(arguments: Backend.testCases)
    func largeListingComesInPages(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.makeDirectory("/big")
            let expected = (0..<3000).map { String(format: "file-%04d", $0) }
            // Sixteen at a time: an object store answers each in a few milliseconds, not microseconds.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, name) in expected.enumerated() {
                    if index >= 16 { try await group.next() }
                    group.addTask {
                        let writer = try await fs.openForWriting("/big/" + name, mode: .replace)
                        try await writer.commit()
                    }
                }
                try await group.waitForAll()
            }
            let pages = try await fs.pages("/big")
            #expect(pages.count > 1)
            #expect(pages.allSatisfy { !$0.isEmpty })
            #expect(pages.joined().map(\.name).sorted() == expected)
        }
    }

    @Test(arguments: Backend.testCases)
    func moveFiles(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/a", "A")
            try await fs.move(from: "/a", to: "/b")
            await expectError(.notFound) { _ = try await fs.info("/a") }
            #expect(try await fs.read("/b") == "A")

            // An existing file is replaced.
            try await fs.write("/c", "C")
            try await fs.move(from: "/b", to: "/c")
            #expect(try await fs.read("/c") == "A")
            #expect(try await fs.names("/") == ["c"])

            // An existing directory is not.
            try await fs.makeDirectory("/d")
            await expectError(.alreadyExists, path: "/d") { try await fs.move(from: "/c", to: "/d") }
            try await fs.move(from: "/c", to: "/d/c")
            #expect(try await fs.read("/d/c") == "A")

            await expectError(.notFound, path: "/missing") { try await fs.move(from: "/missing", to: "/x") }
            await expectError(.notFound) { try await fs.move(from: "/d/c", to: "/missing/c") }
        }
    }

    @Test(arguments: Backend.testCases)
    func moveDirectories(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.makeDirectory("/d")
            try await fs.write("/d/f", "x")
            try await fs.move(from: "/d", to: "/e")
            #expect(try await fs.read("/e/f") == "x")
            #expect(try await fs.names("/") == ["e"])

            await expectError(.invalidArgument) { try await fs.move(from: "/e", to: "/e/inside") }
            try await fs.makeDirectory("/other")
            await expectError(.alreadyExists) { try await fs.move(from: "/e", to: "/other") }
            await expectError(.permissionDenied) { try await fs.move(from: "/", to: "/x") }
        }
    }

    @Test(arguments: Backend.testCases)
    func readFromOffsets(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/f", "0123456789")
            #expect(try await fs.read("/f") == "0123456789")
            #expect(try await fs.read("/f", from: 3) == "3456789")
            #expect(try await fs.read("/f", from: 10) == "")
            #expect(try await fs.read("/f", from: 100) == "")

            try await fs.makeDirectory("/d")
            await expectError(.notAFile, path: "/d") { _ = try await fs.openForReading("/d", from: 0) }
            await expectError(.notFound, path: "/missing") { _ = try await fs.openForReading("/missing", from: 0) }
        }
    }

    @Test(arguments: Backend.testCases)
    func largeFilesComeInChunks(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            let bytes = ByteBuffer(bytes: (0..<(600 * 1024)).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let writer = try await fs.openForWriting("/big", mode: .replace)
            var rest = bytes
            while let chunk = rest.readSlice(length: Swift.min(100_000, rest.readableBytes)), chunk.readableBytes > 0 {
                try await writer.write(chunk)
            }
            try await writer.commit()

            #expect(try await fs.info("/big").size == Int64(bytes.readableBytes))
            let chunks = try await fs.readChunks("/big")
            #expect(chunks.count >= 3)
            #expect(chunks.allSatisfy { $0.readableBytes <= 256 * 1024 })
            #expect(try await fs.readBytes("/big") == bytes)
            #expect(try await fs.readBytes("/big", from: 300_000) == bytes.getSlice(at: 300_000, length: 314_400))
        }
    }

    @Test(arguments: Backend.testCases)
    func replaceIsAtomic(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/f", "old")
            let writer = try await fs.openForWriting("/f", mode: .replace)
            try await writer.write(ByteBuffer(string: "new "))
            try await writer.write(ByteBuffer(string: "content"))

            // Nothing is visible before commit: not the new bytes, not a temporary file.
            #expect(try await fs.read("/f") == "old")
            #expect(try await fs.info("/f").size == 3)
            #expect(try await fs.names("/") == ["f"])
            let earlyReader = try await fs.openForReading("/f", from: 0)

            try await writer.commit()
            #expect(try await fs.read("/f") == "new content")
            #expect(try await fs.names("/") == ["f"])

            // A reader opened before the commit still reads the old content.
            var early = try #require(try await earlyReader.read())
            #expect(early.readString(length: early.readableBytes) == "old")
            try await earlyReader.close()

            // abort after commit does nothing.
            await writer.abort()
            #expect(try await fs.read("/f") == "new content")
        }
    }

    @Test(arguments: Backend.testCases)
    func replaceCreatesOnlyAtCommit(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            let writer = try await fs.openForWriting("/new", mode: .replace)
            try await writer.write(ByteBuffer(string: "data"))
            await expectError(.notFound) { _ = try await fs.info("/new") }
            #expect(try await fs.names("/") == [])
            try await writer.commit()
            #expect(try await fs.read("/new") == "data")
        }
    }

    @Test(arguments: Backend.testCases)
    func abortLeavesTheOldFile(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/f", "old")
            let writer = try await fs.openForWriting("/f", mode: .replace)
            try await writer.write(ByteBuffer(string: "garbage"))
            await writer.abort()
            await writer.abort()
            #expect(try await fs.read("/f") == "old")
            #expect(try await fs.names("/") == ["f"])
            await expectError(.invalidArgument) { try await writer.commit() }

            let fresh = try await fs.openForWriting("/g", mode: .replace)
            await fresh.abort()
            #expect(try await fs.names("/") == ["f"])
        }
    }

    @Test(arguments: Backend.testCases)
    func writeErrors(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.makeDirectory("/d")
            await expectError(.notAFile, path: "/d") { _ = try await fs.openForWriting("/d", mode: .replace) }
            await expectError(.notAFile, path: "/d") { _ = try await fs.openForWriting("/d", mode: .append) }
            await expectError(.notFound) { _ = try await fs.openForWriting("/missing/f", mode: .replace) }
        }
    }

    @Test(arguments: Backend.testCases)
    func append(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/f", "abc")
            try await fs.write("/f", "def", mode: .append)
            #expect(try await fs.read("/f") == "abcdef")
            try await fs.write("/g", "created", mode: .append)
            #expect(try await fs.read("/g") == "created")
        }
    }

    @Test(arguments: Backend.testCases)
    func resume(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/f", "0123456789")
            try await fs.write("/f", "XY", mode: .resume(at: 4))
            #expect(try await fs.read("/f") == "0123XY")
            try await fs.write("/f", "Z", mode: .resume(at: 6))
            #expect(try await fs.read("/f") == "0123XYZ")
            await expectError(.invalidArgument, path: "/f") {
                _ = try await fs.openForWriting("/f", mode: .resume(at: 8))
            }
            #expect(try await fs.read("/f") == "0123XYZ")
            try await fs.write("/new", "fresh", mode: .resume(at: 0))
            #expect(try await fs.read("/new") == "fresh")
        }
    }

    @Test(arguments: Backend.testCases)
    func modeAndModificationTime(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/f", "x")
            try await fs.makeDirectory("/d")
            guard fs.capabilities.contains(.setMode), fs.capabilities.contains(.setModificationTime) else {
                // Unsupported is said, never faked with a silent success.
                let before = try await fs.info("/f")
                await expectError(.unsupported) { try await fs.setMode("/f", to: 0o600) }
                await expectError(.unsupported) {
                    try await fs.setModificationTime("/f", to: Date(timeIntervalSince1970: 1))
                }
                #expect(try await fs.info("/f") == before)
                return
            }
            try await fs.setMode("/f", to: 0o600)
            try await fs.setMode("/d", to: 0o700)
            #expect(try await fs.info("/f").mode == 0o600)
            #expect(try await fs.info("/d").mode == 0o700)

            let date = Date(timeIntervalSince1970: 1_000_000_000.5)
            try await fs.setModificationTime("/f", to: date)
            try await fs.setModificationTime("/d", to: date)
            let fileTime = try #require(try await fs.info("/f").modificationTime)
            let directoryTime = try #require(try await fs.info("/d").modificationTime)
            #expect(abs(fileTime.timeIntervalSince(date)) < 0.001)
            #expect(abs(directoryTime.timeIntervalSince(date)) < 0.001)
            // The listing agrees with info.
            let listed = try #require(try await fs.pages("/").joined().first { $0.name == "f" })
            #expect(listed.mode == 0o600)

            await expectError(.notFound, path: "/missing") { try await fs.setMode("/missing", to: 0o644) }
            await expectError(.notFound, path: "/missing") {
                try await fs.setModificationTime("/missing", to: date)
            }
        }
    }

    @Test(arguments: Backend.testCases)
    func namesWithLineBreaksAreRefused(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.write("/ok", "x")
            for name in ["/a\r\nb", "/a\nb", "/a\rb"] {
                await expectError(.invalidArgument) { try await fs.makeDirectory(name) }
                await expectError(.invalidArgument) { _ = try await fs.openForWriting(name, mode: .replace) }
                await expectError(.invalidArgument) { _ = try await fs.openForWriting(name, mode: .append) }
                await expectError(.invalidArgument) { try await fs.move(from: "/ok", to: name) }
            }
            #expect(try await fs.names("/") == ["ok"])
        }
    }

    @Test(arguments: Backend.testCases)
    func unusualNames(_ backend: Backend) async throws {
        try await backend.withFileSystem { fs in
            try await fs.makeDirectory("/répertoire été")
            try await fs.write("/répertoire été/日本語 file.txt", "ünïcödé")
            try await fs.write("/ leading space", "s")
            #expect(try await fs.names("/") == [" leading space", "répertoire été"])
            #expect(try await fs.names("/répertoire été") == ["日本語 file.txt"])
            #expect(try await fs.read("/répertoire été/日本語 file.txt") == "ünïcödé")
        }
    }
}
