import Crypto
import FTPServer
import FTPServerTesting
import Foundation
import Logging
import NIOCore
import S3Client
import S3FS
import S3Testing
import Synchronization
import VirtualFS

/// A bucket on SeaweedFS served by the real server with the interop users (see ``Fixture``; the scenarios log in as
/// alice, whose home is the bucket's root).
struct S3Fixture: Sendable {
    let server: SeaweedFS
    let bucket: S3Bucket
    let fileSystem: S3FileSystem
    let log: CapturedLog

    /// Serves a new bucket of `server` (the shared one by default) on a free port, runs `body`, stops the server and
    /// removes the bucket. `fileSystemBucket` lets a test serve the bucket through other keys or another name.
    static func withServer<Result: Sendable>(
        _ hint: String,
        on server: SeaweedFS? = nil,
        configuration: S3FileSystem.Configuration = S3FileSystem.Configuration(),
        fileSystemBucket: (@Sendable (SeaweedFS, S3Bucket) throws -> S3Bucket)? = nil,
        _ body: @Sendable (S3Fixture, Int) async throws -> Result
    ) async throws -> Result {
        func run(_ server: SeaweedFS) async throws -> Result {
            let bucket = try await server.makeBucket(hint)
            do {
                let served = try fileSystemBucket?(server, bucket) ?? bucket
                let log = CapturedLog()
                let fixture = S3Fixture(
                    server: server,
                    bucket: bucket,
                    fileSystem: S3FileSystem(bucket: served, configuration: configuration),
                    log: log
                )
                let result = try await TestServer.withServer(
                    configuration: TestServer.configuration(),
                    fileSystem: fixture.fileSystem,
                    authorizer: MD5Authorizer(entries: Fixture.entries),
                    logger: log.logger
                ) { port in
                    try await body(fixture, port)
                }
                await server.removeBucket(bucket)
                return result
            } catch {
                await server.removeBucket(bucket)
                throw error
            }
        }
        if let server { return try await run(server) }
        return try await SeaweedFS.withShared { try await run($0) }
    }

    /// The environment of the client scripts.
    func environment(port: Int, _ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "FTP_HOST": Fixture.host,
            "FTP_PORT": "\(port)",
            "FTP_ALICE_PASSWORD": Fixture.alicePassword,
            "FTP_BOB_PASSWORD": Fixture.bobPassword,
            "FTP_CAROL_PASSWORD": Fixture.carolPassword,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        ]
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Puts `data` at `key` (multipart when large), straight into the bucket.
    func put(_ key: String, _ data: Data) async throws {
        let writer = try await S3FileSystem(bucket: self.bucket).openForWriting("/" + key, mode: .replace)
        var offset = 0
        while offset < data.count {
            let end = min(offset + (4 << 20), data.count)
            try await writer.write(ByteBuffer(bytes: data[offset..<end]))
            offset = end
        }
        try await writer.commit()
    }

    /// The object at `key`, straight from the bucket; nil when there is none.
    func get(_ key: String) async throws -> Data? {
        guard try await self.bucket.headObject(key) != nil else { return nil }
        var data = Data()
        for try await chunk in try await self.bucket.getObject(key).body {
            data.append(contentsOf: chunk.readableBytesView)
        }
        return data
    }

    /// Every key of the bucket.
    func keys() async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            let page = try await self.bucket.listObjects(prefix: "", continuationToken: token)
            keys += page.objects.map(\.key)
            token = page.nextContinuationToken
        } while token != nil
        return keys.sorted()
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

/// Log lines of a test server, for checking what an operator would read.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "fstpy.test") { _ in Handler(log: self) }
    }

    var text: String { self.lines.withLock { $0.joined(separator: "\n") } }

    fileprivate func append(_ line: String) {
        self.lines.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = self.metadata
            for (key, value) in event.metadata ?? [:] { all[key] = value }
            let facts = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            self.log.append("\(event.level) \(event.message) \(facts)")
        }
    }
}
