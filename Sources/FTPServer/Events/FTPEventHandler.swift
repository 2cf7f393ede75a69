/// Receives the server's ``FTPEvent``s: the Swift form of the original's `on_connect`, `on_login`,
/// `on_file_received`... hooks.
///
/// Set handlers in ``FTPService/Configuration/Monitoring/eventHandlers``. Each handler gets every event, in the order
/// the server emitted them, from one task of its own: the server never waits for a handler. Between the server and
/// each handler sits a bounded buffer (``FTPService/Configuration/Monitoring/eventBufferSize``); when a handler falls
/// that far behind, further events for it are dropped, counted (`fstpy_events_dropped_total`) and reported in a
/// warning, and transfers go on at full speed.
///
/// ```swift
/// struct Announcer: FTPEventHandler {
///     func handle(_ event: FTPEvent) async {
///         if event.kind == .fileReceived, let path = event.transfer?.path {
///             print("new upload: \(path)")
///         }
///     }
/// }
/// configuration.monitoring.eventHandlers = [Announcer()]
/// ```
///
/// When the service stops, the events still buffered are delivered for up to
/// ``FTPService/Configuration/Monitoring/eventDrainTimeout``; then the handler's task is cancelled, so a handler that
/// waits on the network should honour cancellation.
public protocol FTPEventHandler: Sendable {
    /// Called once per event, never concurrently with itself.
    func handle(_ event: FTPEvent) async
}
