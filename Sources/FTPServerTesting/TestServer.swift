import FTPServer
import Logging
import NIOCore
import ServiceLifecycle
import VirtualFS

/// Runs an ``FTPService`` on a free loopback port for the length of a test, and always shuts it down.
public enum TestServer {
    /// Starts the server, calls `body` with its port, then shuts the server down gracefully (also when `body` throws).
    public static func withServer<Result: Sendable>(
        configuration: FTPService.Configuration = TestServer.configuration(),
        fileSystem: any VirtualFileSystem,
        authorizer: any Authorizer,
        logger: Logger = Logger(label: "fstpy.test"),
        _ body: @Sendable (Int) async throws -> Result
    ) async throws -> Result {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let service = FTPService(
            configuration: configuration,
            fileSystem: fileSystem,
            authorizer: authorizer,
            logger: logger,
            onServerRunning: { address in
                portContinuation.yield(address.port ?? 0)
                portContinuation.finish()
            }
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], logger: logger)
        )
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.next()
                throw TestServerError.didNotStart
            }
            do {
                let result = try await body(port)
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

    /// A configuration for tests: loopback, port 0, short delays (a session still busy when the test ends holds the
    /// shutdown 5 s at most), system-chosen passive ports.
    public static func configuration() -> FTPService.Configuration {
        var configuration = FTPService.Configuration(host: "127.0.0.1", port: 0)
        configuration.passive.ports = nil
        configuration.timeouts.failedLoginDelay = .milliseconds(50)
        configuration.timeouts.shutdown = .seconds(5)
        configuration.timeouts.dataConnection = .seconds(10)
        return configuration
    }
}

/// Why a test server could not be used.
public enum TestServerError: Error {
    case didNotStart
}
