import CoreMetrics
import Logging
import Synchronization

/// Hands the server's events to its ``FTPEventHandler``s without ever making the server wait, and records the
/// metrics each event stands for.
///
/// Each handler has a bounded `AsyncStream` (oldest kept, newest dropped when full, as a ZeroMQ PUB socket drops at
/// its high-water mark) read by one task of its own, so a slow handler delays nobody but itself. `emit` is
/// synchronous and cheap: it may be called from a session's task or from any other.
package final class EventDispatcher: Sendable {
    private struct Sink: Sendable {
        var handler: any FTPEventHandler
        var stream: AsyncStream<FTPEvent>
        var continuation: AsyncStream<FTPEvent>.Continuation
        var drops: DropReporter
    }

    private let sinks: [Sink]
    package let metrics: ServerMetrics
    private let drainTimeout: Duration
    private let logger: Logger
    private let nextSession = Atomic<UInt64>(0)
    /// Finished by `finish()`: the delivery tasks then drain what is buffered, for at most `drainTimeout`.
    private let finishing: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)

    package init(monitoring: FTPService.Configuration.Monitoring, logger: Logger) {
        self.metrics = ServerMetrics(factory: monitoring.metricsFactory ?? MetricsSystem.factory)
        self.drainTimeout = monitoring.eventDrainTimeout
        self.logger = logger
        let size = max(1, monitoring.eventBufferSize)
        self.sinks = monitoring.eventHandlers.map { [metrics] handler in
            let (stream, continuation) = AsyncStream<FTPEvent>.makeStream(bufferingPolicy: .bufferingOldest(size))
            let name = String(describing: type(of: handler))
            return Sink(
                handler: handler,
                stream: stream,
                continuation: continuation,
                drops: DropReporter(
                    warning: "queue full: events for \(name) dropped",
                    logger: logger,
                    counter: metrics.eventDropCounter(handler: name)
                )
            )
        }
        self.finishing = AsyncStream<Void>.makeStream()
    }

    /// A number for a new session.
    package func makeSessionNumber() -> UInt64 {
        self.nextSession.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Records the event's metrics and queues it for every handler. Never waits.
    package func emit(_ event: FTPEvent) {
        self.metrics.record(event)
        for sink in self.sinks {
            if case .dropped = sink.continuation.yield(event) {
                sink.drops.dropped()
            }
        }
    }

    /// Events dropped so far for the handler at `index` of the configuration's list.
    package func droppedEvents(handler index: Int) -> Int64 {
        self.sinks[index].drops.total
    }

    /// Delivers events to the handlers until ``finish()`` and then the end of the buffered events (or the drain
    /// timeout, or cancellation). Runs inside ``FTPService/run()``.
    package func deliver() async {
        guard !self.sinks.isEmpty else { return }
        let drainTimeout = self.drainTimeout
        let finishing = self.finishing.stream
        await withTaskGroup(of: Bool.self) { group in
            for sink in self.sinks {
                group.addTask {
                    for await event in sink.stream {
                        // Past the drain timeout, what is left is counted, not delivered (an AsyncStream still hands
                        // out what it buffered after its consumer is cancelled).
                        guard !Task.isCancelled else {
                            sink.drops.dropped()
                            continue
                        }
                        await sink.handler.handle(event)
                    }
                    return true
                }
            }
            // The watchdog: from `finish()` on, the handlers have `drainTimeout` to catch up.
            group.addTask {
                for await _ in finishing {}
                try? await Task.sleep(for: drainTimeout)
                return false
            }
            var running = self.sinks.count
            while let handlerDone = await group.next() {
                if handlerDone {
                    running -= 1
                    if running == 0 { break }
                } else if !Task.isCancelled {
                    self.logger.warning(
                        "event handlers did not catch up within the drain timeout; dropping what is left",
                        metadata: ["ftp.timeout": "\(drainTimeout)"]
                    )
                    break
                } else {
                    break
                }
            }
            group.cancelAll()
        }
    }

    /// No more events: the handlers get what is buffered, then ``deliver()`` returns.
    package func finish() {
        for sink in self.sinks {
            sink.continuation.finish()
        }
        self.finishing.continuation.finish()
    }
}
