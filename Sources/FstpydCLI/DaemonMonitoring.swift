import CoreMetrics
import FTPEventHandlers
import FTPServer
import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// What `--pubport`, `--webhook-url`, `--metrics-address` and `--xferlog` start: the server's event handlers, and
/// the services that run beside it.
struct DaemonMonitoring {
    /// For `FTPService.Configuration.monitoring.eventHandlers`.
    var eventHandlers: [any FTPEventHandler] = []
    /// To run in the same `ServiceGroup`, listed before the FTP service: the group stops services in reverse order,
    /// so these stop after the server has emitted its last event.
    var services: [any Service] = []

    /// Opens the transfer log, binds the ZeroMQ and metrics sockets and prepares the webhook, or explains in one line
    /// why not. Bootstraps the process's `MetricsSystem` (once) when metrics are served.
    static func start(
        _ settings: MonitoringSettings,
        listenHost: String,
        logger: Logger
    ) async throws(StartupError) -> DaemonMonitoring {
        var monitoring = DaemonMonitoring()
        // What can fail without side effects comes first.
        if let path = settings.xferlog {
            do {
                monitoring.eventHandlers.append(try TransferLogWriter(path: path, logger: logger))
            } catch {
                throw StartupError("\(error)")
            }
            logger.info("writing the transfer log (xferlog)", metadata: ["ftp.xferlog": "\(path)"])
        }
        if let url = settings.webhookURL {
            let webhook: WebhookEventHandler
            do {
                webhook = try WebhookEventHandler(configuration: .init(url: url), logger: logger)
            } catch {
                throw StartupError("--webhook-url: \(error)")
            }
            monitoring.eventHandlers.append(webhook)
            monitoring.services.append(webhook)
            logger.info("posting events to a webhook", metadata: ["ftp.webhook": "\(webhook)"])
        }
        if let address = settings.metricsAddress {
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            // Transfers last from milliseconds to hours.
            factory.durationHistogramBuckets["fstpy_transfer_duration_seconds"] = [
                .milliseconds(10), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15),
                .seconds(60), .seconds(300), .seconds(1800), .seconds(3600),
            ]
            MetricsSystem.bootstrap(factory)
            do {
                let endpoint = try await MetricsEndpoint.bind(
                    host: address.host,
                    port: address.port,
                    registry: registry
                )
                monitoring.services.append(endpoint)
                logger.info(
                    "serving metrics",
                    metadata: ["ftp.metrics": "http://\(endpoint.localAddress.displayText)/metrics"]
                )
            } catch {
                throw StartupError("cannot serve metrics on \(address.host):\(address.port): \(Self.reason(error))")
            }
        }
        if let port = settings.pubport {
            do {
                let publisher = try await ZeroMQPublisher.bind(host: listenHost, port: port, logger: logger)
                monitoring.eventHandlers.append(publisher)
                monitoring.services.append(publisher)
            } catch {
                throw StartupError("cannot open the ZeroMQ PUB socket on \(listenHost):\(port): \(Self.reason(error))")
            }
        }
        return monitoring
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? SocketAddressError.UnknownHost {
            return "'\(error.host)' is not an address or a known host name"
        }
        return "\(error)"
    }
}
