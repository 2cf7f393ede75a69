import CoreMetrics

extension FTPService.Configuration {
    /// Events for ``FTPEventHandler``s, and metrics.
    public struct Monitoring: Sendable {
        /// Who receives the server's events. Defaults to none (events then cost nothing).
        public var eventHandlers: [any FTPEventHandler]
        /// Events buffered for each handler before further ones are dropped for it. Defaults to 4096.
        public var eventBufferSize: Int
        /// At shutdown, how long buffered events may still take to reach the handlers. Defaults to 5 seconds.
        public var eventDrainTimeout: Duration
        /// Where the server's metrics go (sessions, logins, bytes, transfers and their duration, storage errors).
        /// nil (the default) uses the process-wide `MetricsSystem.factory`, which records nothing until the
        /// application bootstraps a backend such as swift-prometheus.
        public var metricsFactory: (any MetricsFactory)?

        public init(
            eventHandlers: [any FTPEventHandler] = [],
            eventBufferSize: Int = 4096,
            eventDrainTimeout: Duration = .seconds(5),
            metricsFactory: (any MetricsFactory)? = nil
        ) {
            self.eventHandlers = eventHandlers
            self.eventBufferSize = eventBufferSize
            self.eventDrainTimeout = eventDrainTimeout
            self.metricsFactory = metricsFactory
        }
    }
}
