import Foundation
import Testing
import VirtualFS

@Suite("FileSystemURL")
struct FileSystemURLTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var string: String
        var scheme: String
        var username: String? = nil
        var password: String? = nil
        var resource: String
        var parameters: [String: String] = [:]
        var redacted: String? = nil

        var testDescription: String { self.string }
    }

    static let cases: [Case] = [
        Case(string: "osfs://./ftp-root", scheme: "osfs", resource: "./ftp-root"),
        Case(string: "osfs:///srv/ftp", scheme: "osfs", resource: "/srv/ftp"),
        Case(string: "osfs://relative/dir", scheme: "osfs", resource: "relative/dir"),
        Case(string: "OSFS://Dir", scheme: "osfs", resource: "Dir", redacted: "osfs://Dir"),
        Case(string: "osfs://dir%20with%20space", scheme: "osfs", resource: "dir with space"),
        Case(string: "mem://", scheme: "mem", resource: ""),
        Case(
            string: "s3://KEY:SECRET@bucket/prefix?endpoint_url=http://127.0.0.1:9000&strict=false",
            scheme: "s3",
            username: "KEY",
            password: "SECRET",
            resource: "bucket/prefix",
            parameters: ["endpoint_url": "http://127.0.0.1:9000", "strict": "false"],
            redacted: "s3://KEY:***@bucket/prefix?endpoint_url=http://127.0.0.1:9000&strict=false"
        ),
        Case(
            string: "s3://K%2FY:se/cr+et@bucket",
            scheme: "s3",
            username: "K/Y",
            password: "se/cr+et",
            resource: "bucket",
            redacted: "s3://K%2FY:***@bucket"
        ),
        Case(string: "s3://KEY:p%40ss@b", scheme: "s3", username: "KEY", password: "p@ss", resource: "b"),
        Case(string: "ftp://user@host", scheme: "ftp", username: "user", resource: "host"),
        Case(
            string: "s3://bucket?k=a+b%26c&flag&k=second",
            scheme: "s3",
            resource: "bucket",
            parameters: ["k": "a b&c", "flag": ""]
        ),
        Case(
            string: "s3://bucket?secret_key=abc&region=eu",
            scheme: "s3",
            resource: "bucket",
            parameters: ["secret_key": "abc", "region": "eu"],
            redacted: "s3://bucket?secret_key=***&region=eu"
        ),
        Case(string: "/srv/ftp", scheme: "osfs", resource: "/srv/ftp"),
        Case(string: "./ftp root%20x", scheme: "osfs", resource: "./ftp root%20x"),
    ]

    @Test(arguments: cases)
    func parses(_ expected: Case) throws {
        let url = try FileSystemURL(expected.string)
        #expect(url.scheme == expected.scheme)
        #expect(url.username == expected.username)
        #expect(url.password == expected.password)
        #expect(url.resource == expected.resource)
        #expect(url.parameters == expected.parameters)
        #expect(url.original == expected.string)
        if let redacted = expected.redacted { #expect(url.redacted == redacted) }
        #expect(url.description == url.redacted)
        if let password = expected.password { #expect(!url.redacted.contains(password)) }
    }

    @Test(arguments: ["://x", "1s3://x", "s 3://x", "osfs://%zz", "s3://KEY:SECRET@b%2", "osfs://%C3%28"])
    func refusesMalformed(_ string: String) {
        #expect(throws: FileSystemURLError.self) { try FileSystemURL(string) }
        do {
            _ = try FileSystemURL(string)
        } catch {
            #expect(error.description.hasPrefix("malformed file system URL"))
            #expect(!error.description.contains("SECRET"))
        }
    }
}

@Suite("FileSystemRegistry")
struct FileSystemRegistryTests {
    @Test func standardSchemes() {
        #expect(FileSystemRegistry.standard.schemes == ["mem", "osfs"])
        #expect(FileSystemRegistry().schemes == [])
    }

    @Test func opensLocalDirectories() async throws {
        try await withTemporaryDirectory { directory in
            try "x".write(toFile: directory + "/file", atomically: false, encoding: .utf8)
            let registry = FileSystemRegistry.standard
            for url in ["osfs://" + directory, "osfs://" + relativePath(to: directory), directory] {
                let fs = try #require(try await registry.open(url) as? LocalFileSystem, "\(url)")
                #expect(fs.rootPath == realPath(directory))
                #expect(try await fs.names("/") == ["file"])
            }

            await expectURLError("osfs root './does-not-exist-42' does not exist") {
                _ = try await registry.open("osfs://./does-not-exist-42")
            }
            let file = relativePath(to: directory + "/file")
            await expectURLError("osfs root '\(file)' is not a directory") {
                _ = try await registry.open("osfs://" + file)
            }
        }
    }

    @Test func opensFreshMemoryFileSystems() async throws {
        let registry = FileSystemRegistry.standard
        let first = try #require(try await registry.open("mem://") as? MemoryFileSystem)
        let second = try #require(try await registry.open("MEM://") as? MemoryFileSystem)
        try await first.write("/f", "x")
        #expect(try await first.names("/") == ["f"])
        #expect(try await second.names("/") == [])
    }

    @Test func unknownSchemesAreNamed() async {
        await expectURLError("unknown file system scheme 'ftp' (known: mem, osfs)") {
            _ = try await FileSystemRegistry.standard.open("ftp://user:pw@host")
        }
    }

    @Test func customOpeners() async throws {
        var registry = FileSystemRegistry.standard
        registry.register(scheme: "Home") { url in
            let base = MemoryFileSystem()
            try await base.makeDirectory("/" + url.resource)
            return SubFileSystem(base: base, root: "/" + url.resource)
        }
        #expect(registry.schemes == ["home", "mem", "osfs"])
        let fs = try await registry.open("home://alice")
        #expect(fs is SubFileSystem)
    }

    private func expectURLError(
        _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("expected an error", sourceLocation: sourceLocation)
        } catch let error as FileSystemURLError {
            #expect(error.description == message, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }
}
