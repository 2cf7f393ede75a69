import Foundation
import NIOCore
import S3Client
import S3Testing
import Testing

/// The client against a real S3 server (SeaweedFS started by the tests, Signature Version 4 enforced).
@Suite("S3 client on SeaweedFS", .enabled(if: SeaweedFS.isUsable), .timeLimit(.minutes(5)))
struct S3BucketTests {
    @Test("PutObject, HeadObject, GetObject whole and ranged, DeleteObject")
    func objects() async throws {
        try await SeaweedFS.withBucket("objects") { _, bucket in
            let bytes = ByteBuffer(bytes: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let eTag = try await bucket.putObject("dir/file name é+.bin", body: bytes)
            #expect(eTag != nil)

            let head = try #require(try await bucket.headObject("dir/file name é+.bin"))
            #expect(head.size == 100_000)
            #expect(head.eTag == eTag)
            #expect(head.lastModified.map { abs($0.timeIntervalSinceNow) < 300 } == true)
            #expect(try await bucket.headObject("dir/missing") == nil)

            #expect(try await Self.read(bucket.getObject("dir/file name é+.bin")) == bytes)
            let ranged = try await bucket.getObject("dir/file name é+.bin", from: 99_000)
            #expect(ranged.object.size == 100_000)
            #expect(ranged.contentLength == 1000)
            #expect(try await Self.read(ranged) == bytes.getSlice(at: 99_000, length: 1000))
            let middle = try await bucket.getObject("dir/file name é+.bin", from: 10, length: 5)
            #expect(try await Self.read(middle) == bytes.getSlice(at: 10, length: 5))

            await #expect(throws: S3Error.self) {
                _ = try await bucket.getObject("dir/file name é+.bin", from: 100_000)
            }
            do {
                _ = try await bucket.getObject("dir/missing")
                Issue.record("a missing key was read")
            } catch let error as S3Error {
                #expect(error.isNotFound, "\(error)")
            }
            do {
                _ = try await bucket.getObject("dir/file name é+.bin", ifMatch: "\"0000\"")
                Issue.record("If-Match was not enforced")
            } catch let error as S3Error {
                #expect(error.isPreconditionFailed, "\(error)")
            }

            try await bucket.deleteObject("dir/file name é+.bin")
            #expect(try await bucket.headObject("dir/file name é+.bin") == nil)
            try await bucket.deleteObject("dir/file name é+.bin")
        }
    }

    @Test("ListObjectsV2 pages with a delimiter: objects, common prefixes, continuation tokens")
    func listing() async throws {
        try await SeaweedFS.withBucket("listing") { _, bucket in
            let names =
                (0..<25).map { String(format: "top/f%02d", $0) } + ["top/sub/a", "top/sub/b", "top/other/x", "root"]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names {
                    group.addTask { try await bucket.putObject(name, body: ByteBuffer(string: name)) }
                }
                try await group.waitForAll()
            }
            var objects: [String] = []
            var prefixes: [String] = []
            var pages = 0
            var token: String?
            repeat {
                let page = try await bucket.listObjects(
                    prefix: "top/",
                    delimiter: "/",
                    continuationToken: token,
                    maxKeys: 10
                )
                pages += 1
                objects += page.objects.map(\.key)
                prefixes += page.commonPrefixes
                token = page.nextContinuationToken
            } while token != nil
            #expect(pages >= 3)
            #expect(objects == (0..<25).map { String(format: "top/f%02d", $0) })
            #expect(prefixes.sorted() == ["top/other/", "top/sub/"])

            let all = try await bucket.listObjects(prefix: "", maxKeys: 1000)
            #expect(all.objects.count == names.count)
            #expect(all.objects.first { $0.key == "top/f03" }?.size == 7)

            let failures = try await bucket.deleteObjects(names)
            #expect(failures.isEmpty)
            #expect(try await bucket.listObjects(prefix: "").isEmpty)
        }
    }

    @Test("uploads with a signed payload and with UNSIGNED-PAYLOAD: both stored as sent")
    func payloadSigning() async throws {
        try await SeaweedFS.withBucket("signing") { _, bucket in
            let bytes = ByteBuffer(bytes: (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            for signs in [true, false] {
                var configuration = bucket.configuration
                configuration.signsPayload = signs
                let client = try S3Bucket(name: bucket.name, configuration: configuration)
                let key = signs ? "signed" : "unsigned"
                _ = try await client.putObject(key, body: bytes)
                #expect(try await Self.read(bucket.getObject(key)) == bytes)
                let upload = try await client.createMultipartUpload(key + "-parts")
                let part = try await client.uploadPart(key + "-parts", uploadID: upload, partNumber: 1, body: bytes)
                try await client.completeMultipartUpload(
                    key + "-parts",
                    uploadID: upload,
                    parts: [.init(partNumber: 1, eTag: part)]
                )
                #expect(try await Self.read(bucket.getObject(key + "-parts")) == bytes)
            }
        }
    }

    @Test("multipart upload with copied and uploaded parts, CopyObject, AbortMultipartUpload")
    func multipart() async throws {
        try await SeaweedFS.withBucket("multipart") { _, bucket in
            let first = ByteBuffer(repeating: 0x41, count: S3Bucket.minimumPartSize + 3)
            let firstTag = try await bucket.putObject("base", body: first)

            let upload = try await bucket.createMultipartUpload("combined")
            let copied = try await bucket.uploadPartCopy(
                "combined",
                uploadID: upload,
                partNumber: 1,
                source: "base",
                range: 0...Int64(first.readableBytes - 1),
                ifMatch: firstTag
            )
            let tail = try await bucket.uploadPart(
                "combined",
                uploadID: upload,
                partNumber: 2,
                body: ByteBuffer(string: "tail")
            )
            try await bucket.completeMultipartUpload(
                "combined",
                uploadID: upload,
                parts: [.init(partNumber: 2, eTag: tail), .init(partNumber: 1, eTag: copied)]
            )
            var expected = first
            expected.writeString("tail")
            #expect(try await Self.read(bucket.getObject("combined")) == expected)

            try await bucket.copyObject(from: "combined", to: "copy", ifMatch: nil)
            #expect(try await bucket.headObject("copy")?.size == Int64(expected.readableBytes))
            do {
                try await bucket.copyObject(from: "combined", to: "copy2", ifMatch: "\"0000\"")
                Issue.record("the copy precondition was not enforced")
            } catch let error as S3Error {
                #expect(error.isPreconditionFailed, "\(error)")
            }

            let abandoned = try await bucket.createMultipartUpload("abandoned")
            _ = try await bucket.uploadPart(
                "abandoned",
                uploadID: abandoned,
                partNumber: 1,
                body: ByteBuffer(string: "x")
            )
            #expect(try await bucket.listMultipartUploads().contains { $0.uploadID == abandoned })
            try await bucket.abortMultipartUpload("abandoned", uploadID: abandoned)
            #expect(try await !bucket.listMultipartUploads().contains { $0.uploadID == abandoned })
            #expect(try await bucket.headObject("abandoned") == nil)
            // Aborting twice is not an error.
            try await bucket.abortMultipartUpload("abandoned", uploadID: abandoned)
        }
    }

    @Test("wrong keys and a missing bucket are errors with the store's code")
    func refusals() async throws {
        try await SeaweedFS.withBucket("refusals") { server, bucket in
            let wrongSecret = try server.bucket(
                bucket.name,
                credentials: S3Credentials(accessKeyID: SeaweedFS.accessKey, secretAccessKey: "wrong")
            )
            do {
                _ = try await wrongSecret.listObjects(prefix: "")
                Issue.record("a wrong secret was accepted")
            } catch let error as S3Error {
                #expect(error.code == "SignatureDoesNotMatch", "\(error)")
                #expect(error.isAccessDenied && error.isBadCredentials)
                #expect(!error.description.contains("wrong"))
            }
            let unknownKey = try server.bucket(
                bucket.name,
                credentials: S3Credentials(accessKeyID: "nobody", secretAccessKey: "x")
            )
            do {
                try await unknownKey.putObject("x", body: ByteBuffer(string: "x"))
                Issue.record("an unknown key was accepted")
            } catch let error as S3Error {
                #expect(error.code == "InvalidAccessKeyId", "\(error)")
            }
            let missing = try server.bucket("fstpy-no-such-bucket")
            do {
                _ = try await missing.listObjects(prefix: "")
                Issue.record("a missing bucket was listed")
            } catch let error as S3Error {
                #expect(error.isNoSuchBucket, "\(error)")
            }
        }
    }

    @Test("an unreachable store: retried with backoff, then a transport error")
    func unreachable() async throws {
        let port = try LoopbackPort.unused()
        var configuration = S3Bucket.Configuration(
            endpoint: S3Endpoint(isSecure: false, host: "127.0.0.1", port: port),
            region: "us-east-1",
            credentials: SeaweedFS.credentials,
            addressingStyle: .path
        )
        configuration.retry = .init(maximumAttempts: 3, initialDelay: .milliseconds(100))
        let bucket = try S3Bucket(name: "b", configuration: configuration)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await bucket.headObject("k")
            Issue.record("an unreachable store answered")
        } catch let error as S3Error {
            #expect(error.isTransportFailure, "\(error)")
            #expect(error.description.contains("no answer from the store"))
        }
        // Two pauses of 50-100 ms and 100-200 ms.
        #expect(clock.now - start >= .milliseconds(150))
    }

    @Test("streamed GetObject: whole and ranged, gathered in chunks, a slow reader, errors at the answer")
    func streamedDownloads() async throws {
        try await SeaweedFS.withBucket("streamed") { _, bucket in
            let bytes = ByteBuffer(bytes: (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) })
            let eTag = try await bucket.putObject("obj", body: bytes)
            // Two chunks held at most: the store is read only as fast as the reader takes them.
            let small = S3DownloadBuffering(chunkSize: 16 << 10, limit: 32 << 10)

            let whole = bucket.startDownload("obj", buffering: small)
            let answer = try await whole.response()
            #expect(answer.object.size == 300_000)
            #expect(answer.object.eTag == eTag)
            #expect(answer.contentLength == 300_000)
            var sizes: [Int] = []
            var received = ByteBuffer()
            while let chunk = try await whole.next() {
                sizes.append(chunk.readableBytes)
                received.writeImmutableBuffer(chunk)
                if sizes.count % 4 == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(received == bytes)
            #expect(sizes.dropLast().allSatisfy { $0 >= 16 << 10 }, "\(sizes)")

            let ranged = bucket.startDownload("obj", from: 250_000, length: 1000, ifMatch: eTag, buffering: small)
            let rangedAnswer = try await ranged.response()
            #expect(rangedAnswer.isPartial)
            #expect(rangedAnswer.object.size == 300_000)
            #expect(rangedAnswer.contentLength == 1000)
            #expect(try await Self.read(ranged) == bytes.getSlice(at: 250_000, length: 1000))
            let tail = bucket.startDownload("obj", from: 299_990)
            _ = try await tail.response()
            #expect(try await Self.read(tail) == bytes.getSlice(at: 299_990, length: 10))

            await Self.expectS3Error(\.isInvalidRange) {
                try await bucket.startDownload("obj", from: 300_000).response()
            }
            await Self.expectS3Error(\.isNotFound) { try await bucket.startDownload("missing").response() }
            await Self.expectS3Error(\.isPreconditionFailed) {
                try await bucket.startDownload("obj", ifMatch: "\"0000\"").response()
            }
        }
    }

    @Test("a streamed GetObject cancelled midway ends its request; the client goes on")
    func streamedDownloadCancelled() async throws {
        try await SeaweedFS.withBucket("cancelled") { _, bucket in
            let bytes = ByteBuffer(repeating: 0x5A, count: 4 << 20)
            try await bucket.putObject("big", body: bytes)
            let download = bucket.startDownload("big", buffering: S3DownloadBuffering(chunkSize: 64 << 10))
            _ = try await download.response()
            #expect(try await download.next()?.readableBytes ?? 0 >= 64 << 10)
            download.cancel()
            await #expect(throws: CancellationError.self) { _ = try await download.next() }

            // A reading task cancelled while it waits.
            let waiting = bucket.startDownload("big", buffering: S3DownloadBuffering(chunkSize: 64 << 10))
            _ = try await waiting.response()
            let reader = Task {
                var count = 0
                while let chunk = try await waiting.next() {
                    count += chunk.readableBytes
                    try await Task.sleep(for: .milliseconds(50))
                }
                return count
            }
            try await Task.sleep(for: .milliseconds(120))
            reader.cancel()
            await #expect(throws: CancellationError.self) { _ = try await reader.value }

            let again = bucket.startDownload("big")
            _ = try await again.response()
            #expect(try await Self.read(again) == bytes)
        }
    }

    static func expectS3Error(
        _ check: (S3Error) -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Any
    ) async {
        do {
            _ = try await body()
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch let error as S3Error {
            #expect(check(error), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    static func read(_ download: S3StreamedDownload) async throws -> ByteBuffer {
        var all = ByteBuffer()
        while let chunk = try await download.next() { all.writeImmutableBuffer(chunk) }
        return all
    }

    static func read(_ download: S3Download) async throws -> ByteBuffer {
        var all = ByteBuffer()
        for try await chunk in download.body { all.writeImmutableBuffer(chunk) }
        return all
    }
}
