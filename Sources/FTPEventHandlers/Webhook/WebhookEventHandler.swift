import AsyncHTTPClient
import CoreMetrics
import FTPServer
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Posts every event as JSON (``WebhookPayload``) to a URL, without ever slowing the server down.
///
/// Events wait in a bounded queue (``Configuration/queueSize``); at most ``Configuration/concurrency`` requests are
/// in flight at once. A receiver that is slow or down fills the queue, and then further events are dropped, counted
/// (`fstpy_webhook_dropped_total`) and reported in a warning at most every 10 seconds. A request that fails (no
/// connection, a timeout, a status other than 2xx) is not retried; it is counted (`fstpy_webhook_failures_total`)
/// and reported the same way.
///
/// Run it in the server's `ServiceGroup`, listed before the ``FTPService`` (so it stops after the server's last
/// event): on graceful shutdown it sends what is queued for up to ``Configuration/drainTimeout``, then stops.
public final class WebhookEventHandler: FTPEventHandler, Service, CustomStringConvertible {
    public struct Configuration: Sendable {
        /// Where to POST (http or https).
        public var url: URL
        /// Events waiting to be sent before further ones are dropped. Defaults to 1024.
        public var queueSize: Int
        /// Requests in flight at once. Defaults to 4.
        public var concurrency: Int
        /// The limit for one request, connection included. Defaults to 10 seconds.
        public var timeout: Duration
        /// At shutdown, how long queued events may still take to be sent. Defaults to 5 seconds.
        public var drainTimeout: Duration

        public init(
            url: URL,
            queueSize: Int = 1024,
            concurrency: Int = 4,
            timeout: Duration = .seconds(10),
            drainTimeout: Duration = .seconds(5)
        ) {
            self.url = url
            self.queueSize = queueSize
            self.concurrency = concurrency
            self.timeout = timeout
            self.drainTimeout = drainTimeout
        }
    }

    /// Why a webhook URL was refused.
    public struct InvalidURL: Error, CustomStringConvertible {
        public var description: String
    }

    private let configuration: Configuration
    private let logger: Logger
    private let queue: AsyncStream<FTPEvent>
    private let queueInput: AsyncStream<FTPEvent>.Continuation
    private let drops: DropReporter
    private let failures: DropReporter
    private let delivered = Atomic<Int64>(0)
    private let deliveredCounter = Counter(label: "fstpy_webhook_delivered_total")

    /// - Throws: ``InvalidURL`` unless the URL is http or https with a host.
    public init(configuration: Configuration, logger: Logger = Logger(label: "fstpy.webhook")) throws {
        try Self.validate(configuration.url)
        self.configuration = configuration
        self.logger = logger
        (self.queue, self.queueInput) = AsyncStream<FTPEvent>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, configuration.queueSize))
        )
        self.drops = DropReporter(
            warning: "webhook queue full: events dropped",
            logger: logger,
            counter: Counter(label: "fstpy_webhook_dropped_total")
        )
        self.failures = DropReporter(
            warning: "webhook deliveries failed",
            logger: logger,
            counter: Counter(label: "fstpy_webhook_failures_total")
        )
    }

    /// Checks that a URL can be a webhook: http or https, with a host.
    public static func validate(_ url: URL) throws {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw InvalidURL(description: "the webhook URL must start with http:// or https://")
        }
        guard let host = url.host, !host.isEmpty else {
            throw InvalidURL(description: "the webhook URL has no host")
        }
    }

    /// The URL without its password (for logs).
    public var description: String {
        var components = URLComponents(url: self.configuration.url, resolvingAgainstBaseURL: false)
        if components?.password != nil { components?.password = "***" }
        return "WebhookEventHandler(\(components?.string ?? "<url>"))"
    }

    /// Events dropped because the queue was full.
    public var droppedEvents: Int64 { self.drops.total }
    /// Requests that failed.
    public var failedDeliveries: Int64 { self.failures.total }
    /// Requests answered with 2xx.
    public var deliveredEvents: Int64 { self.delivered.load(ordering: .relaxed) }

    public func handle(_ event: FTPEvent) async {
        if case .dropped = self.queueInput.yield(event) {
            self.drops.dropped()
        }
    }

    public func run() async throws {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(
            connect: TimeAmount(self.configuration.timeout),
            read: TimeAmount(self.configuration.timeout)
        )
        let client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: clientConfiguration
        )
        let drainTimeout = self.configuration.drainTimeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendQueued(with: client) }
            // On shutdown: close the queue (what is in it still goes out), and give the sending that long.
            group.addTask {
                guard (try? await gracefulShutdown()) != nil else { return }
                self.queueInput.finish()
                guard (try? await Task.sleep(for: drainTimeout)) != nil else { return }
                self.logger.warning("webhook: events still queued at the end of the drain timeout were dropped")
            }
            await group.next()
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    /// Sends queued events, at most `concurrency` at a time, until the queue is finished and empty (or cancellation).
    private func sendQueued(with client: HTTPClient) async {
        let concurrency = max(1, self.configuration.concurrency)
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await event in self.queue {
                if inFlight >= concurrency {
                    await group.next()
                    inFlight -= 1
                }
                // Past the drain timeout: what is left is counted, not sent (an AsyncStream still hands out what
                // it buffered after its consumer is cancelled).
                guard !Task.isCancelled else {
                    self.drops.dropped()
                    continue
                }
                group.addTask { await self.send(event, with: client) }
                inFlight += 1
            }
        }
    }

    private func send(_ event: FTPEvent, with client: HTTPClient) async {
        do {
            var request = HTTPClientRequest(url: self.configuration.url.absoluteString)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "fstpyd")
            request.body = .bytes(ByteBuffer(bytes: try WebhookPayload(event).json()))
            let response = try await client.execute(request, timeout: TimeAmount(self.configuration.timeout))
            // Read (and drop) the answer so the connection can be reused.
            _ = try await response.body.collect(upTo: 1 << 20)
            guard (200..<300).contains(response.status.code) else {
                self.failures.dropped(metadata: ["ftp.webhook.status": "\(response.status.code)"])
                return
            }
            self.delivered.add(1, ordering: .relaxed)
            self.deliveredCounter.increment()
        } catch {
            self.failures.dropped(metadata: ["ftp.error": "\(error)"])
        }
    }
}
