import FTPServer
import FTPServerTesting
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import VirtualFS

/// The fixture's server run as the daemon runs it: in a `ServiceGroup` with other services (a webhook, a ZeroMQ
/// publisher) listed before it, so they stop after its last event. Returns once everything has stopped: by then
/// every event has been delivered.
enum EventsHarness {
    static func withServer<Result: Sendable>(
        services: [any Service] = [],
        configure: @Sendable (inout FTPService.Configuration) -> Void = { _ in },
        _ body: @Sendable (Fixture, Int) async throws -> Result
    ) async throws -> Result {
        let fixture = try Fixture()
        defer { fixture.base.remove() }
        var configuration = TestServer.configuration()
        configure(&configuration)
        let logger = Logger(label: "fstpy.test")
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let server = FTPService(
            configuration: configuration,
            fileSystem: try LocalFileSystem(root: fixture.root.path),
            authorizer: MD5Authorizer(entries: Fixture.entries),
            logger: logger,
            onServerRunning: { address in
                portContinuation.yield(address.port ?? 0)
                portContinuation.finish()
            }
        )
        let group = ServiceGroup(
            configuration: .init(services: (services + [server]).map { .init(service: $0) }, logger: logger)
        )
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.next()
                throw TestServerError.didNotStart
            }
            do {
                let result = try await body(fixture, port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Runs `Clients/events_client.py` (system python3: ftplib only) and requires exit status 0.
    static func client(
        _ arguments: [String],
        fixture: Fixture,
        port: Int,
        environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ProcessResult {
        let python = try Interop.tool("python3", sourceLocation: sourceLocation)
        let script = Interop.targetDirectory().appendingPathComponent("Clients/events_client.py").path
        var scriptArguments = arguments
        scriptArguments.insert("\(port)", at: 1)
        let result = try await ProcessRunner.run(
            python,
            [script] + scriptArguments,
            environment: fixture.environment(port: port).merging(environment) { $1 },
            timeout: .seconds(120)
        )
        #expect(result.status == 0, "events_client.py \(arguments.joined(separator: " ")): \(result.summary)")
        return result
    }
}

/// Records every event it is given.
final class EventRecorder: FTPEventHandler {
    private let recorded = Mutex<[FTPEvent]>([])

    func handle(_ event: FTPEvent) async {
        self.recorded.withLock { $0.append(event) }
    }

    var events: [FTPEvent] { self.recorded.withLock { $0 } }
}

/// The Python of `scripts/python-venv` (pyzmq installed), made once per test run; a failure to make it is a test
/// failure (with pip's reason), never a skip.
enum PythonVenv {
    private static let made = Mutex<String?>(nil)

    static func python(sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        if let python = Self.made.withLock({ $0 }) { return python }
        let bash = try Interop.tool("bash", sourceLocation: sourceLocation)
        _ = try Interop.tool("python3", sourceLocation: sourceLocation)
        let script = Interop.targetDirectory()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/python-venv").path
        // The script locks: concurrent tests wait for the first to finish installing.
        let result = try await ProcessRunner.run(bash, [script], timeout: .seconds(600))
        let python = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !python.isEmpty else {
            Issue.record(
                "could not make the Python environment with pyzmq (scripts/python-venv): \(result.summary)",
                sourceLocation: sourceLocation
            )
            throw InteropError.failed("scripts/python-venv failed")
        }
        Self.made.withLock { $0 = python }
        return python
    }
}

/// A Prometheus text page as a dictionary: `name{labels}` → value.
func parseMetrics(_ text: String) -> [String: Double] {
    var values: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
            continue
        }
        values[String(line[..<space])] = value
    }
    return values
}
