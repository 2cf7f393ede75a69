import Foundation
import NIOCore
import S3Client
import S3FS
import S3Testing
import Testing
import VirtualFS

/// What the S3 backend does beyond the shared conformance suite (Tests/VirtualFSTests runs that one on S3 too):
/// directories made of markers and prefixes, multipart uploads and their aborts, appends and resumes built from
/// server-side copies, renames of large files and of directories, on a real S3 server.
@Suite("S3FileSystem on SeaweedFS", .enabled(if: SeaweedFS.isUsable), .timeLimit(.minutes(5)))
struct S3FileSystemTests {
    static let partSize = S3Bucket.minimumPartSize

    /// A file system on a fresh bucket, with the smallest parts S3 allows so that multipart paths run on small files.
    func withFileSystem(
        _ hint: String,
        prefix: String = "root/dir",
        configure: (inout S3FileSystem.Configuration) -> Void = { _ in },
        _ body: (S3FileSystem, S3Bucket) async throws -> Void
    ) async throws {
        try await SeaweedFS.withBucket(hint) { _, bucket in
            var configuration = S3FileSystem.Configuration()
            configuration.partSize = Self.partSize
            configure(&configuration)
            try await body(S3FileSystem(bucket: bucket, prefix: prefix, configuration: configuration), bucket)
        }
    }

    /// `count` pseudo-random bytes from `seed`. Filled through a raw pointer: a `writeInteger` per byte takes seconds
    /// for the multi-part sizes in a debug build, and the tests share two cooperative threads with every other test.
    static func bytes(_ count: Int, seed: UInt8 = 7) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var value = UInt32(seed)
            for index in 0..<count {
                value = value &* 1_103_515_245 &+ 12345
                raw[index] = UInt8(truncatingIfNeeded: value >> 16)
            }
            return count
        }
        return buffer
    }

    static func write(_ fs: S3FileSystem, _ path: String, _ bytes: ByteBuffer, mode: WriteMode = .replace) async throws
    {
        let writer = try await fs.openForWriting(path, mode: mode)
        var rest = bytes
        while rest.readableBytes > 0 {
            try await writer.write(rest.readSlice(length: min(1 << 20, rest.readableBytes))!)
        }
        try await writer.commit()
    }

    static func read(_ fs: S3FileSystem, _ path: String, from offset: Int64 = 0) async throws -> ByteBuffer {
        let reader = try await fs.openForReading(path, from: offset)
        var all = ByteBuffer()
        while let chunk = try await reader.read() { all.writeImmutableBuffer(chunk) }
        try await reader.close()
        return all
    }

    static func names(_ fs: S3FileSystem, _ path: String) async throws -> [String] {
        var names: [String] = []
        for try await page in try await fs.list(path) { names += page.map(\.name) }
        return names.sorted()
    }

    @Test("directories: markers, implicit prefixes, empty directories stay listed, RMD refuses non-empty")
    func directories() async throws {
        try await self.withFileSystem("dirs") { fs, bucket in
            // Keys written by another tool: a/b/c.txt makes /a and /a/b directories without markers.
            try await bucket.putObject("root/dir/a/b/c.txt", body: ByteBuffer(string: "c"))
            #expect(try await fs.info("/a").kind == .directory)
            #expect(try await fs.info("/a/b").kind == .directory)
            #expect(try await Self.names(fs, "/") == ["a"])
            #expect(try await Self.names(fs, "/a/b") == ["c.txt"])

            try await fs.makeDirectory("/a/empty")
            #expect(try await bucket.headObject("root/dir/a/empty/") != nil, "MKD writes the marker dir/")
            #expect(try await Self.names(fs, "/a") == ["b", "empty"])
            #expect(try await Self.names(fs, "/a/empty") == [])

            // Deleting the last file of an implicit directory keeps the directory.
            try await fs.removeFile("/a/b/c.txt")
            #expect(try await fs.info("/a/b").kind == .directory)
            #expect(try await Self.names(fs, "/a") == ["b", "empty"])

            try await fs.write("/a/b/d.txt", "d")
            await expectError(.notEmpty) { try await fs.removeDirectory("/a/b") }
            try await fs.removeFile("/a/b/d.txt")
            try await fs.removeDirectory("/a/b")
            try await fs.removeDirectory("/a/empty")
            #expect(try await Self.names(fs, "/a") == [])
            #expect(try await fs.info("/a").kind == .directory, "/a keeps existing once emptied")

            // Nothing outside the prefix is visible or touched.
            try await bucket.putObject("outside.txt", body: ByteBuffer(string: "o"))
            #expect(try await Self.names(fs, "/") == ["a"])
        }
    }

    @Test("MFMT and SITE CHMOD are unsupported, not faked; the capabilities say so")
    func unsupported() async throws {
        try await self.withFileSystem("unsupported") { fs, _ in
            #expect(fs.capabilities == [.append, .resume])
            try await fs.write("/f", "x")
            await expectError(.unsupported) { try await fs.setModificationTime("/f", to: Date()) }
            await expectError(.unsupported) { try await fs.setMode("/f", to: 0o600) }
        }
    }

    @Test("a multi-part upload: parts in flight, the content intact, no upload left behind")
    func multipartUpload() async throws {
        try await self.withFileSystem("multipart") { fs, bucket in
            let data = Self.bytes(Self.partSize * 3 + 12345)
            try await Self.write(fs, "/big.bin", data)
            #expect(try await fs.info("/big.bin").size == Int64(data.readableBytes))
            #expect(try await Self.read(fs, "/big.bin") == data)
            #expect(
                try await Self.read(fs, "/big.bin", from: 7_000_000)
                    == data.getSlice(at: 7_000_000, length: data.readableBytes - 7_000_000)
            )
            #expect(try await bucket.listMultipartUploads().isEmpty)
        }
    }

    @Test(
        "uploads of several parts reuse part buffers, the content intact, with 1 to 3 parts in flight",
        arguments: [1, 3]
    )
    func partBuffersReused(_ partsInFlight: Int) async throws {
        try await self.withFileSystem("reuse", configure: { $0.partsInFlight = partsInFlight }) { fs, bucket in
            let data = Self.bytes(Self.partSize * 4 + 777, seed: UInt8(partsInFlight))
            // Chunks of odd sizes, so that parts start and end inside them.
            let writer = try await fs.openForWriting("/parts.bin", mode: .replace)
            var rest = data
            while rest.readableBytes > 0 {
                try await writer.write(rest.readSlice(length: min(700_001, rest.readableBytes))!)
            }
            try await writer.commit()
            #expect(try await Self.read(fs, "/parts.bin") == data)
            #expect(try await bucket.listMultipartUploads().isEmpty)
        }
    }

    @Test("a read is a first range and the rest: every offset around the seam, the bytes in order")
    func readsInTwoGets() async throws {
        try await self.withFileSystem(
            "ranges",
            configure: {
                $0.readFirstRangeSize = 100_000
                $0.readBuffering = S3DownloadBuffering(chunkSize: 16 << 10, limit: 64 << 10)
            }
        ) { fs, _ in
            let data = Self.bytes(1_000_000, seed: 3)
            try await Self.write(fs, "/f.bin", data)
            for offset in [0, 1, 99_999, 100_000, 100_001, 500_000, 999_999] {
                #expect(
                    try await Self.read(fs, "/f.bin", from: Int64(offset))
                        == data.getSlice(at: offset, length: data.readableBytes - offset),
                    "from \(offset)"
                )
            }
            #expect(try await Self.read(fs, "/f.bin", from: 1_000_000).readableBytes == 0)
            try await Self.write(fs, "/small.bin", Self.bytes(5000))
            #expect(try await Self.read(fs, "/small.bin") == Self.bytes(5000))
            try await Self.write(fs, "/empty.bin", ByteBuffer())
            #expect(try await Self.read(fs, "/empty.bin").readableBytes == 0)
        }
    }

    @Test("an object replaced while it is read fails the read; old and new bytes are never mixed")
    func replacedWhileRead() async throws {
        try await self.withFileSystem(
            "replaced",
            configure: {
                $0.readFirstRangeSize = 100_000
                $0.readBuffering = S3DownloadBuffering(chunkSize: 16 << 10, limit: 32 << 10)
            }
        ) { fs, bucket in
            let old = Self.bytes(400_000, seed: 4)
            try await Self.write(fs, "/f.bin", old)
            let reader = try await fs.openForReading("/f.bin", from: 0)
            var received = ByteBuffer()
            if let chunk = try await reader.read() { received.writeImmutableBuffer(chunk) }
            try await bucket.putObject("root/dir/f.bin", body: Self.bytes(400_000, seed: 5))
            do {
                while let chunk = try await reader.read() { received.writeImmutableBuffer(chunk) }
                Issue.record("the read went on past the replacement (\(received.readableBytes) bytes)")
            } catch let error as FileSystemError {
                #expect(error.code == .backend, "\(error)")
                #expect("\(error)".contains("replaced"), "\(error)")
            }
            #expect(received.readableBytes < old.readableBytes)
            #expect(received == old.getSlice(at: 0, length: received.readableBytes))
            try await reader.close()
        }
    }

    @Test("an aborted upload leaves the old object and no parts; so does a failed one")
    func abortedUpload() async throws {
        try await self.withFileSystem("abort") { fs, bucket in
            try await fs.write("/f", "old")
            let writer = try await fs.openForWriting("/f", mode: .replace)
            try await writer.write(Self.bytes(Self.partSize * 2 + 10))
            #expect(try await bucket.listMultipartUploads().count == 1, "the upload is in progress")
            #expect(try await fs.read("/f") == "old")
            await writer.abort()
            #expect(try await fs.read("/f") == "old")
            #expect(try await bucket.listMultipartUploads().isEmpty)
            await expectError(.invalidArgument) { try await writer.commit() }

            // Keys that may not write: the upload fails and nothing changes.
            let reader = S3FileSystem(
                bucket: try S3Bucket(
                    name: bucket.name,
                    configuration: .init(
                        endpoint: bucket.configuration.endpoint,
                        region: SeaweedFS.region,
                        credentials: SeaweedFS.readOnlyCredentials,
                        addressingStyle: .path
                    )
                ),
                prefix: "root/dir"
            )
            #expect(try await reader.read("/f") == "old")
            await expectError(.permissionDenied) { try await reader.write("/f", "new") }
            await expectError(.permissionDenied) { try await reader.makeDirectory("/x") }
            #expect(try await fs.read("/f") == "old")
        }
    }

    @Test("APPE and REST+STOR on large objects: the kept bytes are copied by the store, never truncated")
    func appendAndResumeLarge() async throws {
        try await self.withFileSystem("append-large") { fs, bucket in
            let base = Self.bytes(Self.partSize + 1000, seed: 1)
            try await Self.write(fs, "/f", base)
            let tail = Self.bytes(Self.partSize + 77, seed: 2)
            try await Self.write(fs, "/f", tail, mode: .append)
            var expected = base
            expected.writeImmutableBuffer(tail)
            #expect(try await Self.read(fs, "/f") == expected)

            // An append of nothing keeps the object as it was.
            try await Self.write(fs, "/f", ByteBuffer(), mode: .append)
            #expect(try await fs.info("/f").size == Int64(expected.readableBytes))

            // Resume inside the object: the first `offset` bytes stay, the rest is replaced.
            let offset = Self.partSize + 500
            let rest = Self.bytes(300, seed: 3)
            try await Self.write(fs, "/f", rest, mode: .resume(at: Int64(offset)))
            var resumed = expected.getSlice(at: 0, length: offset)!
            resumed.writeImmutableBuffer(rest)
            #expect(try await Self.read(fs, "/f") == resumed)
            #expect(try await bucket.listMultipartUploads().isEmpty)
        }
    }

    @Test("APPE and REST+STOR on small objects: the kept bytes are read back, within one part")
    func appendAndResumeSmall() async throws {
        try await self.withFileSystem("append-small") { fs, _ in
            try await fs.write("/f", "0123456789")
            try await fs.write("/f", "abc", mode: .append)
            #expect(try await fs.read("/f") == "0123456789abc")
            // Growing past one part from a small start.
            let big = Self.bytes(Self.partSize * 2)
            try await Self.write(fs, "/f", big, mode: .append)
            var expected = ByteBuffer(string: "0123456789abc")
            expected.writeImmutableBuffer(big)
            #expect(try await Self.read(fs, "/f") == expected)
            try await fs.write("/g", "0123456789")
            try await fs.write("/g", "XY", mode: .resume(at: 10))
            #expect(try await fs.read("/g") == "0123456789XY")
            try await fs.write("/g", "Z", mode: .resume(at: 0))
            #expect(try await fs.read("/g") == "Z")
        }
    }

    @Test(
        "an append whose object changes meanwhile fails and keeps the other writer's object",
        arguments: [10, Self.partSize + 10]
    )
    func appendRace(_ size: Int) async throws {
        try await self.withFileSystem("append-race") { fs, bucket in
            try await Self.write(fs, "/f", Self.bytes(size, seed: 1))
            let writer = try await fs.openForWriting("/f", mode: .append)
            let replacement = Self.bytes(100, seed: 9)
            try await Self.write(fs, "/f", replacement)
            try await writer.write(ByteBuffer(string: "more"))
            do {
                try await writer.commit()
                Issue.record("the append went through although the object changed")
            } catch {
                #expect(error is FileSystemError, "\(error)")
            }
            #expect(try await Self.read(fs, "/f") == replacement)
            #expect(try await bucket.listMultipartUploads().isEmpty)
        }
    }

    @Test("rename of a file larger than one copy: a multipart copy")
    func renameLargeFile() async throws {
        try await self.withFileSystem(
            "rename-large",
            configure: { $0.maximumSingleCopySize = Int64(2 * Self.partSize) }
        ) { fs, bucket in
            let data = Self.bytes(Self.partSize * 4 + 3)
            try await Self.write(fs, "/big", data)
            try await fs.makeDirectory("/d")
            try await fs.move(from: "/big", to: "/d/moved")
            await expectError(.notFound) { _ = try await fs.info("/big") }
            #expect(try await Self.read(fs, "/d/moved") == data)
            #expect(try await bucket.listMultipartUploads().isEmpty)
        }
    }

    @Test("rename of a directory moves every key below it, markers and nested directories included")
    func renameDirectory() async throws {
        try await self.withFileSystem("rename-dir", configure: { $0.listPageSize = 7 }) { fs, bucket in
            try await fs.makeDirectory("/src")
            try await fs.makeDirectory("/src/empty")
            for index in 0..<20 { try await fs.write("/src/f\(index)", "file \(index)") }
            try await bucket.putObject("root/dir/src/deep/er/x", body: ByteBuffer(string: "x"))
            try await fs.makeDirectory("/dst-parent")
            try await fs.move(from: "/src", to: "/dst-parent/moved")
            await expectError(.notFound) { _ = try await fs.info("/src") }
            #expect(try await Self.names(fs, "/") == ["dst-parent"])
            let moved = try await Self.names(fs, "/dst-parent/moved")
            #expect(moved == (["deep", "empty"] + (0..<20).map { "f\($0)" }).sorted())
            #expect(try await fs.read("/dst-parent/moved/f13") == "file 13")
            #expect(try await fs.read("/dst-parent/moved/deep/er/x") == "x")
            #expect(try await fs.info("/dst-parent/moved/empty").kind == .directory)
        }
    }

    @Test("a directory rename whose copies fail leaves the source as it was and says so")
    func renameDirectoryFailure() async throws {
        try await self.withFileSystem("rename-fail") { fs, bucket in
            try await fs.makeDirectory("/src")
            for index in 0..<5 { try await fs.write("/src/f\(index)", "file \(index)") }
            // Keys that may list and read but not write: every copy is refused.
            let readOnly = S3FileSystem(
                bucket: try S3Bucket(
                    name: bucket.name,
                    configuration: .init(
                        endpoint: bucket.configuration.endpoint,
                        region: SeaweedFS.region,
                        credentials: SeaweedFS.readOnlyCredentials,
                        addressingStyle: .path
                    )
                ),
                prefix: "root/dir"
            )
            do {
                try await readOnly.move(from: "/src", to: "/dst")
                Issue.record("the rename succeeded with read-only keys")
            } catch let error as FileSystemError {
                #expect(error.code == .backend, "\(error)")
                #expect(error.message?.contains("while copying") == true, "\(error)")
            }
            #expect(try await Self.names(fs, "/src") == (0..<5).map { "f\($0)" })
            await expectError(.notFound) { _ = try await fs.info("/dst") }
        }
    }

    @Test("listing a large prefix streams pages and never lists the whole bucket at once")
    func largeListing() async throws {
        try await self.withFileSystem("listing", configure: { $0.listPageSize = 100 }) { fs, bucket in
            let names = (0..<450).map { String(format: "f%04d", $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, name) in names.enumerated() {
                    if index >= 16 { try await group.next() }
                    group.addTask {
                        try await bucket.putObject("root/dir/many/\(name)", body: ByteBuffer(string: name))
                    }
                }
                try await group.waitForAll()
            }
            try await fs.makeDirectory("/many/sub")
            var pages: [[FileInfo]] = []
            for try await page in try await fs.list("/many") { pages.append(page) }
            #expect(pages.count >= 5)
            #expect(pages.allSatisfy { $0.count <= 100 && !$0.isEmpty })
            let entries = pages.joined()
            #expect(entries.filter { $0.kind == .file }.map(\.name) == names)
            #expect(entries.filter { $0.kind == .directory }.map(\.name) == ["sub"])
            #expect(entries.first { $0.name == "f0042" }?.size == 5)
            #expect(entries.allSatisfy { $0.kind == .directory || $0.modificationTime != nil })
        }
    }

    @Test("names S3 allows but FTP cannot show safely are left out of listings")
    func unlistableNames() async throws {
        try await self.withFileSystem("names") { fs, bucket in
            try await bucket.putObject("root/dir/ok", body: ByteBuffer(string: "ok"))
            try await bucket.putObject("root/dir/bad\r\nname", body: ByteBuffer(string: "x"))
            try await bucket.putObject("root/dir/bad\ndirectory/x", body: ByteBuffer(string: "x"))
            #expect(try await Self.names(fs, "/") == ["ok"])
        }
    }
}

extension VirtualFileSystem {
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

    func read(_ path: String) async throws -> String {
        let reader = try await self.openForReading(path, from: 0)
        var all = ByteBuffer()
        while let chunk = try await reader.read() { all.writeImmutableBuffer(chunk) }
        try await reader.close()
        return all.readString(length: all.readableBytes) ?? ""
    }
}

func expectError(
    _ code: FileSystemError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as FileSystemError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
