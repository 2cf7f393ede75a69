import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The built `fstpyd` executable, run as a child process in a scratch working directory.
enum Fstpyd {
    /// The package root, from this file's path: …/Tests/FstpydCLITests/Support/Fstpyd.swift.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<package root>/.build/debug/fstpyd`, or `FSTPYD_EXECUTABLE` when set.
    static let executablePath: String = {
        if let path = ProcessInfo.processInfo.environment["FSTPYD_EXECUTABLE"], !path.isEmpty { return path }
        return packageRoot.appendingPathComponent(".build/debug/fstpyd").path
    }()

    /// The executable's path; records a clear failure and throws when it has not been built.
    static func executable(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: executablePath) else {
            Issue.record(
                "fstpyd is not built at \(executablePath): run `swift build` (scripts/test does) or set FSTPYD_EXECUTABLE",
                sourceLocation: sourceLocation
            )
            throw CLITestError("fstpyd not built")
        }
        return executablePath
    }

    /// The environment for a child: the test runner's, without any FSTPY_ variable, plus `extra`.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FSTPY_") }
        environment["COLUMNS"] = "200"
        for (key, value) in extra { environment[key] = value }
        return environment
    }
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process with stdout and stderr captured to files (never a full pipe), killed by `stop()` or when the
/// test ends.
final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    let scratch: URL
    private let outURL: URL
    private let errURL: URL
    private var handles: [FileHandle] = []

    init(
        executable: String,
        arguments: [String],
        environment: [String: String],
        currentDirectory: URL
    ) throws {
        self.scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("fstpyd-child-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.scratch, withIntermediateDirectories: true)
        self.outURL = self.scratch.appendingPathComponent("stdout")
        self.errURL = self.scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: self.outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: self.errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: self.outURL)
        let err = try FileHandle(forWritingTo: self.errURL)
        self.handles = [out, err]
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        self.process.environment = environment
        self.process.currentDirectoryURL = currentDirectory
        self.process.standardOutput = out
        self.process.standardError = err
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
    }

    deinit {
        self.kill()
        for handle in self.handles { try? handle.close() }
        try? FileManager.default.removeItem(at: self.scratch)
    }

    var pid: Int32 { self.process.processIdentifier }
    var isRunning: Bool { self.process.isRunning }
    var standardOutput: String { (try? String(contentsOf: self.outURL, encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOf: self.errURL, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) {
        if self.process.isRunning { sendSignal(self.pid, number) }
    }

    /// SIGKILL if still running (cleanup).
    func kill() {
        if self.process.isRunning {
            sendSignal(self.pid, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    /// Waits (polling) for the process to exit; returns its exit status, or nil on timeout. A death by signal is
    /// reported as 128 + the signal number.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        self.process.waitUntilExit()
        if self.process.terminationReason == .uncaughtSignal { return 128 + self.process.terminationStatus }
        return self.process.terminationStatus
    }

    /// Waits (polling) until `condition` holds, the process exits, or the timeout passes.
    func wait(timeout: Duration, until condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if !self.process.isRunning || ContinuousClock.now >= deadline { return condition() }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// What to show when something went wrong.
    var summary: String {
        "running: \(self.isRunning)\n--- stderr ---\n\(self.standardError.suffix(4000))\n--- stdout ---\n\(self.standardOutput.suffix(2000))"
    }
}

/// A scratch working directory for one daemon run.
struct WorkingDirectory: Sendable {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fstpyd-cwd-\(UUID().uuidString)", isDirectory: true)
            .resolvingSymlinksInPath()
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    func path(_ relative: String) -> URL { self.url.appendingPathComponent(relative) }

    func write(_ relative: String, _ text: String) throws {
        let url = self.path(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(at: self.path(relative), withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.url)
    }
}

/// Runs fstpyd to completion (for startup errors and --help), with a hard time limit.
func runFstpyd(
    _ arguments: [String],
    environment: [String: String] = [:],
    in directory: WorkingDirectory,
    timeout: Duration = .seconds(20)
) async throws -> (status: Int32?, stdout: String, stderr: String) {
    let child = try ChildProcess(
        executable: try Fstpyd.executable(),
        arguments: arguments,
        environment: Fstpyd.environment(environment),
        currentDirectory: directory.url
    )
    defer { child.kill() }
    let status = await child.waitForExit(timeout: timeout)
    return (status, child.standardOutput, child.standardError)
}

// At file scope: inside `ChildProcess` the bare name `kill` is its own method.
private func sendSignal(_ pid: Int32, _ number: Int32) {
    _ = kill(pid, number)
}
