import CoreMetrics
import Logging
import Synchronization

/// Counts what a bounded queue had to drop (or deliveries that failed), and says so in a warning at most once per
/// interval: a receiver that is down would otherwise turn every event into a log line.
package final class DropReporter: Sendable {
    private struct State {
        var total: Int64 = 0
        var sinceLastWarning: Int64 = 0
        var lastWarning: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let warning: Logger.Message
    private let logger: Logger
    private let counter: Counter
    private let interval: Duration

    /// - Parameters:
    ///   - warning: what the warning says ("queue full: events for ZeroMQPublisher dropped").
    ///   - counter: the metric to increment per item.
    package init(warning: Logger.Message, logger: Logger, counter: Counter, interval: Duration = .seconds(10)) {
        self.warning = warning
        self.logger = logger
        self.counter = counter
        self.interval = interval
    }

    /// Items dropped so far.
    package var total: Int64 { self.state.withLock { $0.total } }

    /// One more item; `metadata` goes with the warning, if one is due.
    package func dropped(metadata: Logger.Metadata = [:]) {
        self.counter.increment()
        let now = ContinuousClock.now
        let report: (recent: Int64, total: Int64)? = self.state.withLock { state in
            state.total += 1
            state.sinceLastWarning += 1
            if let last = state.lastWarning, now - last < self.interval { return nil }
            state.lastWarning = now
            defer { state.sinceLastWarning = 0 }
            return (state.sinceLastWarning, state.total)
        }
        if let report {
            var metadata = metadata
            metadata["ftp.count"] = "\(report.recent)"
            metadata["ftp.count.total"] = "\(report.total)"
            self.logger.warning(self.warning, metadata: metadata)
        }
    }
}
