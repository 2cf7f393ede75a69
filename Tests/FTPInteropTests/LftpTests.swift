import Foundation
import Testing

/// lftp against the real server: large put/get and segmented pget, mirror both ways, listings (MLSD), file
/// management, and active mode.
@Suite("lftp", .serialized)
struct LftpTests {
    @Test(
        "lftp put, get and pget -n 4 of a 64 MiB file",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(3))
    )
    func largeFile() async throws {
        let lftp = try Lftp()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-lftp")
            defer { scratch.remove() }
            let data = try TestData.random(64 << 20)
            let local = scratch.url.appendingPathComponent("big.bin")
            try data.write(to: local)
            let back = scratch.url.appendingPathComponent("back.bin")
            let segmented = scratch.url.appendingPathComponent("segmented.bin")
            let result = try await lftp.run(
                port,
                home: scratch,
                """
                put \(Lftp.quoted(local.path)) -o big.bin; \
                get big.bin -o \(Lftp.quoted(back.path)); \
                pget -n 4 big.bin -o \(Lftp.quoted(segmented.path))
                """
            )
            #expect(result.status == 0, "lftp put/get/pget: \(result.summary)")
            let stored = try Data(contentsOf: fixture.url("big.bin"))
            #expect(stored == data, "put: \(TestData.difference(stored, data))")
            let got = try Data(contentsOf: back)
            #expect(got == data, "get: \(TestData.difference(got, data))")
            let pieces = try Data(contentsOf: segmented)
            #expect(pieces == data, "pget -n 4: \(TestData.difference(pieces, data))")
        }
    }

    @Test(
        "lftp mirror -R a tree, mirror it back, compare byte for byte; cls -l and ls show the names",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(2))
    )
    func mirror() async throws {
        let lftp = try Lftp()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-lftp")
            defer { scratch.remove() }
            let source = scratch.url.appendingPathComponent("source", isDirectory: true)
            let files: [String: Int] = [
                "top.txt": 1000,
                "empty.bin": 0,
                "one.bin": 1,
                "a/b/c/deep.bin": 300_000,
                "a/sibling.txt": 12,
                "dir with space/ünïcödé 名前.txt": 4096,
                "dir with space/another file.dat": 70_000,
            ]
            for (path, size) in files {
                let url = source.appendingPathComponent(path)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(),
                    withIntermediateDirectories: true
                )
                try TestData.random(size).write(to: url)
            }
            try FileManager.default.createDirectory(
                at: source.appendingPathComponent("empty dir"),
                withIntermediateDirectories: true
            )
            let expected = try TestData.tree(at: source)
            let copy = scratch.url.appendingPathComponent("copy", isDirectory: true)

            let result = try await lftp.run(
                port,
                home: scratch,
                """
                mirror -R \(Lftp.quoted(source.path)) tree; \
                mirror tree \(Lftp.quoted(copy.path)); \
                cls -l tree/; \
                ls "tree/dir with space/"
                """
            )
            #expect(result.status == 0, "lftp mirror: \(result.summary)")
            let uploaded = try TestData.tree(at: fixture.url("tree"))
            #expect(
                uploaded == expected,
                "mirror -R: the served tree differs: \(Self.treeDifference(uploaded, expected))"
            )
            let downloaded = try TestData.tree(at: copy)
            #expect(
                downloaded == expected,
                "mirror back: the local copy differs: \(Self.treeDifference(downloaded, expected))"
            )
            let output = result.standardOutput
            for name in ["top.txt", "empty.bin", "one.bin", "dir with space", "empty dir"] {
                #expect(output.contains(name), "cls -l tree/ lacks \(name):\n\(output)")
            }
            for name in ["ünïcödé 名前.txt", "another file.dat"] {
                #expect(output.contains(name), "ls lacks \(name):\n\(output)")
            }
        }
    }

    @Test(
        "lftp rm, rmdir, mv, mkdir -p",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func fileManagement() async throws {
        let lftp = try Lftp()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-lftp")
            defer { scratch.remove() }
            try FileManager.default.createDirectory(at: fixture.url("work/gone"), withIntermediateDirectories: true)
            try Data("one".utf8).write(to: fixture.url("work/one.txt"))
            try Data("two".utf8).write(to: fixture.url("work/two.txt"))
            let result = try await lftp.run(
                port,
                home: scratch,
                """
                cd work; \
                mv one.txt "renamed ✓.txt"; \
                rm two.txt; \
                rmdir gone; \
                mkdir -p x/y/z; \
                mv x moved-x; \
                cls -1
                """
            )
            #expect(result.status == 0, "lftp file management: \(result.summary)")
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: fixture.url("work").path))
            #expect(names == ["renamed ✓.txt", "moved-x"], "work/ holds \(names)")
            #expect(
                FileManager.default.fileExists(atPath: fixture.url("work/moved-x/y/z").path),
                "mkdir -p x/y/z then mv"
            )
            #expect(result.standardOutput.contains("renamed ✓.txt"), "cls -1: \(result.standardOutput)")

            // A refused command makes lftp fail (cmd:fail-exit): bob may not delete.
            let refused = try await lftp.run(
                port,
                home: scratch,
                user: "bob",
                password: Fixture.bobPassword,
                "rm secret.txt"
            )
            #expect(refused.status != 0, "bob's rm: \(refused.summary)")
            #expect(FileManager.default.fileExists(atPath: fixture.url("secret.txt").path), "bob's rm removed the file")
        }
    }

    @Test(
        "lftp in active mode: put, get, ls",
        .enabled(if: Interop.available("lftp") || Interop.required),
        .timeLimit(.minutes(1))
    )
    func activeMode() async throws {
        let lftp = try Lftp()
        try await Fixture.withServer { fixture, port in
            let scratch = try TemporaryDirectory(prefix: "fstpy-lftp")
            defer { scratch.remove() }
            let data = try TestData.random(5 << 20 + 3)
            let local = scratch.url.appendingPathComponent("active.bin")
            try data.write(to: local)
            let back = scratch.url.appendingPathComponent("active-back.bin")
            let result = try await lftp.run(
                port,
                home: scratch,
                passive: false,
                "put \(Lftp.quoted(local.path)) -o active.bin; get active.bin -o \(Lftp.quoted(back.path)); cls -l"
            )
            #expect(result.status == 0, "lftp active: \(result.summary)")
            let stored = try Data(contentsOf: fixture.url("active.bin"))
            #expect(stored == data, "active put: \(TestData.difference(stored, data))")
            let got = try Data(contentsOf: back)
            #expect(got == data, "active get: \(TestData.difference(got, data))")
            #expect(result.standardOutput.contains("active.bin"), "active cls -l: \(result.standardOutput)")
        }
    }

    static func treeDifference(_ actual: [String: Data?], _ expected: [String: Data?]) -> String {
        var notes: [String] = []
        for path in Set(actual.keys).union(expected.keys).sorted() {
            switch (actual[path], expected[path]) {
            case (nil, _): notes.append("missing \(path)")
            case (_, nil): notes.append("unexpected \(path)")
            case (let a?, let e?) where a != e:
                notes.append("\(path): \(TestData.difference(a ?? Data(), e ?? Data()))")
            default: break
            }
        }
        return notes.joined(separator: "; ")
    }
}

/// Runs `lftp -c` with retries off, short timeouts, and a private HOME (no user configuration, no history).
struct Lftp {
    let path: String

    init(sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.path = try Interop.tool("lftp", sourceLocation: sourceLocation)
    }

    static func quoted(_ path: String) -> String {
        "\"" + path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    func run(
        _ port: Int,
        home: TemporaryDirectory,
        user: String = "alice",
        password: String = Fixture.alicePassword,
        passive: Bool = true,
        scheme: String = "ftp",
        settings: String = "",
        _ commands: String
    ) async throws -> ProcessResult {
        let script = """
            set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1; \
            set cmd:fail-exit yes; set cmd:interactive no; set xfer:clobber on; \
            set ftp:passive-mode \(passive ? "on" : "off"); \(settings) \
            open -u \(user),\(password) -p \(port) \(scheme)://\(Fixture.host); \
            \(commands)
            """
        let lftpHome = home.url.appendingPathComponent(".lftp-home", isDirectory: true)
        try FileManager.default.createDirectory(at: lftpHome, withIntermediateDirectories: true)
        return try await ProcessRunner.run(
            self.path,
            ["--norc", "-c", script],
            environment: ["HOME": lftpHome.path, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"],
            timeout: .seconds(170)
        )
    }
}
