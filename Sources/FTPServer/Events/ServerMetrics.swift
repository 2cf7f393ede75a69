import CoreMetrics
import VirtualFS

/// The server's swift-metrics series, fed from its events (one place decides what each event counts for):
///
/// | name | type | labels |
/// | --- | --- | --- |
/// | `fstpy_sessions` | gauge (meter) | sessions open now |
/// | `fstpy_sessions_total` | counter | sessions opened |
/// | `fstpy_logins_total` | counter | `result`: `ok`, `failed` |
/// | `fstpy_transfer_bytes_total` | counter | `direction`: `in` (uploads), `out` (downloads) |
/// | `fstpy_transfers_total` | counter | `direction`, `result`: `completed`, `aborted`, `stalled`, ... |
/// | `fstpy_transfer_duration_seconds` | timer (histogram) | `direction`, `result` |
/// | `fstpy_storage_errors_total` | counter | `kind`: `not_found`, `permission_denied`, ... `backend` |
/// | `fstpy_events_dropped_total` | counter | `handler` |
///
/// Bytes are counted when a transfer ends (completed or not), so a long transfer shows up at once at its end.
package struct ServerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let sessionsOpen: Meter
    private let sessionsOpened: Counter
    private let loginsOK: Counter
    private let loginsFailed: Counter
    private let bytesIn: Counter
    private let bytesOut: Counter

    package init(factory: any MetricsFactory) {
        self.factory = factory
        self.sessionsOpen = Meter(label: "fstpy_sessions", factory: factory)
        self.sessionsOpened = Counter(label: "fstpy_sessions_total", factory: factory)
        self.loginsOK = Counter(label: "fstpy_logins_total", dimensions: [("result", "ok")], factory: factory)
        self.loginsFailed = Counter(label: "fstpy_logins_total", dimensions: [("result", "failed")], factory: factory)
        self.bytesIn = Counter(label: "fstpy_transfer_bytes_total", dimensions: [("direction", "in")], factory: factory)
        self.bytesOut = Counter(
            label: "fstpy_transfer_bytes_total",
            dimensions: [("direction", "out")],
            factory: factory
        )
    }

    /// Counts what `event` stands for.
    package func record(_ event: FTPEvent) {
        switch event.kind {
        case .connect:
            self.sessionsOpen.increment()
            self.sessionsOpened.increment()
        case .disconnect:
            self.sessionsOpen.decrement()
        case .login:
            self.loginsOK.increment()
        case .loginFailed:
            self.loginsFailed.increment()
        case .logout:
            break
        case .fileSent, .fileReceived, .incompleteFileSent, .incompleteFileReceived:
            guard let transfer = event.transfer else { return }
            let direction = transfer.direction == .upload ? "in" : "out"
            (transfer.direction == .upload ? self.bytesIn : self.bytesOut).increment(by: transfer.bytes)
            // The factory hands back the same series for the same labels (a registry lookup), so these are not
            // kept: 2 directions x 4 outcomes.
            let dimensions = [("direction", direction), ("result", transfer.outcome.rawValue)]
            Counter(label: "fstpy_transfers_total", dimensions: dimensions, factory: self.factory).increment()
            Timer(label: "fstpy_transfer_duration_seconds", dimensions: dimensions, factory: self.factory)
                .recordNanoseconds(transfer.duration.nanoseconds)
        }
    }

    /// A storage operation failed; counted by the kind of failure.
    package func storageFailed(_ error: any Error) {
        let kind = (error as? FileSystemError).map { Self.label(for: $0.code) } ?? "backend"
        Counter(label: "fstpy_storage_errors_total", dimensions: [("kind", kind)], factory: self.factory).increment()
    }

    /// A handler's queue was full.
    package func eventDropCounter(handler: String) -> Counter {
        Counter(label: "fstpy_events_dropped_total", dimensions: [("handler", handler)], factory: self.factory)
    }

    static func label(for code: FileSystemError.Code) -> String {
        switch code {
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .notEmpty: "not_empty"
        case .permissionDenied: "permission_denied"
        case .notADirectory: "not_a_directory"
        case .notAFile: "not_a_file"
        case .unsupported: "unsupported"
        case .invalidArgument: "invalid_argument"
        case .insufficientStorage: "insufficient_storage"
        default: "backend"
        }
    }
}

extension Duration {
    /// The whole duration in nanoseconds, clamped to Int64.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
