import FTPProtocol
import FTPServer
import Foundation

/// The JSON body the webhook posts for one event. Every key is always present (null when it does not apply), so a
/// receiver can rely on one shape:
///
/// ```json
/// {"address":"192.0.2.7","backend_path":"/home/alice/in/a.csv","bytes":1048576,"duration":0.084,
///  "event":"file_received","path":"/in/a.csv","port":50622,"result":"completed","session":12,
///  "time":"2026-11-20T09:12:32.123Z","type":"binary","user":"alice"}
/// ```
///
/// `event` is the original's hook name without `on_`; `time` is UTC with milliseconds; `duration` is in seconds;
/// `result` is `ok`, `failed` (login_failed) or the transfer's outcome (`completed`, `aborted`, `stalled`,
/// `connection_failed`, `storage_failed`). There is never a password in it.
package struct WebhookPayload: Encodable, Hashable, Sendable {
    var event: String
    var time: String
    var session: UInt64
    var user: String?
    var address: String
    var port: Int?
    var path: String?
    var backendPath: String?
    var bytes: Int64?
    var duration: Double?
    var type: String?
    var result: String

    package init(_ event: FTPEvent) {
        self.event = event.kind.rawValue
        self.time = Self.timestamp(event.date)
        self.session = event.session
        self.user = event.user
        self.address = event.client.address
        self.port = event.client.port
        self.path = event.transfer?.path
        self.backendPath = event.transfer?.backendPath
        self.bytes = event.transfer?.bytes
        self.duration = event.transfer.map { Self.seconds($0.duration) }
        self.type = event.transfer.map { $0.type == .ascii ? "ascii" : "binary" }
        self.result = event.result
    }

    enum CodingKeys: String, CodingKey {
        case event, time, session, user, address, port, path, bytes, duration, type, result
        case backendPath = "backend_path"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // `encode` rather than `encodeIfPresent`: absent values are written as null.
        try container.encode(self.event, forKey: .event)
        try container.encode(self.time, forKey: .time)
        try container.encode(self.session, forKey: .session)
        try container.encode(self.user, forKey: .user)
        try container.encode(self.address, forKey: .address)
        try container.encode(self.port, forKey: .port)
        try container.encode(self.path, forKey: .path)
        try container.encode(self.backendPath, forKey: .backendPath)
        try container.encode(self.bytes, forKey: .bytes)
        try container.encode(self.duration, forKey: .duration)
        try container.encode(self.type, forKey: .type)
        try container.encode(self.result, forKey: .result)
    }

    /// The body: compact JSON, keys sorted.
    package func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// `2026-11-20T09:12:32.123Z`
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Seconds, to the microsecond.
    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds / 1_000_000_000_000) / 1_000_000
    }
}
