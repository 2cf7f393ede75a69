import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a finished child process left behind.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data
    /// The child was killed because it outlived its time limit.
    var timedOut: Bool

    var standardOutput: String { String(decoding: self.stdout, as: UTF8.self) }
    var standardError: String { String(decoding: self.stderr, as: UTF8.self) }

    /// A summary for failure messages: status, and the tail of both streams.
    var summary: String {
        func tail(_ text: String) -> String {
            text.count > 4000 ? "…" + String(text.suffix(4000)) : text
        }
        var text = self.timedOut ? "timed out (killed)" : "exit status \(self.status)"
        text += "\n--- stderr ---\n" + tail(self.standardError)
        if !self.stdout.isEmpty, self.stdout.count < 1 << 20 {
            text += "\n--- stdout ---\n" + tail(self.standardOutput)
        }
        return text
    }
}

/// Runs a child process with its output captured to temporary files (so a large output never blocks on a full
/// pipe), a hard time limit that kills it, and a kill on cancellation.
enum ProcessRunner {
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        currentDirectory: URL? = nil,
        stdin: Data? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> ProcessResult {
        let scratch = try TemporaryDirectory(prefix: "fstpy-process")
        defer { scratch.remove() }
        let outURL = scratch.url.appendingPathComponent("stdout")
        let errURL = scratch.url.appendingPathComponent("stderr")
        let inURL = scratch.url.appendingPathComponent("stdin")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        try (stdin ?? Data()).write(to: inURL)

        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        defer {
            try? outHandle.close()
            try? errHandle.close()
            try? inHandle.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle

        let (exits, exitContinuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exitContinuation.yield(finished.terminationStatus)
            exitContinuation.finish()
        }
        try process.run()
        let pid = process.processIdentifier
        let timedOut = Mutex(false)
        let killer = Task {
            try await Task.sleep(for: timeout)
            timedOut.withLock { $0 = true }
            kill(pid, SIGKILL)
        }
        let status = await withTaskCancellationHandler {
            var status: Int32 = -1
            for await value in exits { status = value }
            return status
        } onCancel: {
            kill(pid, SIGKILL)
        }
        killer.cancel()
        return ProcessResult(
            status: status,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: (try? Data(contentsOf: errURL)) ?? Data(),
            timedOut: timedOut.withLock { $0 }
        )
    }
}

/// A fresh directory under the system's temporary folder, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let url: URL
    var path: String { self.url.path }

    init(prefix: String) throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        // Resolve symbolic links (macOS /var → /private/var) so paths compare equal to what the server reports.
        self.url = url.resolvingSymlinksInPath()
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.url)
    }
}
