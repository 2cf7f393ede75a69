import Logging
import Synchronization

/// Collects every log record of a server, as the lines a stream handler would print (message, then the metadata as
/// sorted `key=value` pairs), so a test can assert what an administrator would see, and what they never must.
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]

        /// The record as one line: `message key=value key=value`.
        var line: String {
            ([self.message] + self.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                .joined(separator: " ")
        }
    }

    private let records = Mutex<[Record]>([])

    /// A logger whose records land here (every level).
    func logger(label: String = "fstpy.test") -> Logger {
        Logger(label: label) { _ in Handler(capture: self) }
    }

    var all: [Record] { self.records.withLock { $0 } }

    /// Every record as one text, one line each (for failure messages and "never contains" checks).
    var text: String { self.all.map(\.line).joined(separator: "\n") }

    /// The records with this message whose metadata contains every pair of `matching`.
    func records(_ message: String, matching: [String: String] = [:]) -> [Record] {
        self.all.filter { record in
            record.message == message && matching.allSatisfy { record.metadata[$0.key] == $0.value }
        }
    }

    fileprivate func append(_ record: Record) {
        self.records.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = self.metadata
            for (key, value) in event.metadata ?? [:] { merged[key] = value }
            self.capture.append(
                Record(
                    level: event.level,
                    message: event.message.description,
                    metadata: merged.mapValues { "\($0)" }
                )
            )
        }
    }
}
