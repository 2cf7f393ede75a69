import FTPProtocol
import FTPServer
import Foundation

/// One line of the classic transfer log (wu-ftpd's `xferlog(5)`, also written by ProFTPD, vsftpd and Pure-FTPd), so
/// existing tools (xferstats, log analysers, fail2ban filters) read it:
///
///     Fri Nov 20 09:12:32 2026 2 192.0.2.7 1048576 /home/alice/in/a.csv b _ i r alice ftp 0 * c
///
/// Fields, space-separated: current-time (local, `DDD MMM dd hh:mm:ss YYYY`, the day padded with a space as
/// ctime(3) does), transfer-time (whole seconds, rounded, at least 1, as vsftpd writes it), remote-host (the client's
/// IP address; no DNS lookups), file-size (the bytes moved), filename, transfer-type (`a` ASCII, `b` binary),
/// special-action-flag (`_`: none), direction (`o` outgoing, `i` incoming), access-mode (`r`: a real user; there are
/// no anonymous or guest users), username, service-name (`ftp`), authentication-method (`0`: none),
/// authenticated-user-id (`*`: not available), completion-status (`c` complete, `i` incomplete).
///
/// The filename is the file's path in the served storage (the user's home included), so that one log names each
/// file the same way whoever transferred it. Because the format is split on spaces, every space or control character
/// in the filename and the username is written as `_`, as ProFTPD does: `/in/my report.txt` is logged as
/// `/in/my_report.txt`.
package enum TransferLogLine {
    /// The line for a transfer event (with its newline), or nil for other events.
    package static func line(for event: FTPEvent, timeZone: TimeZone = .current) -> String? {
        guard let transfer = event.transfer else { return nil }
        let fields = [
            Self.time(event.date, timeZone: timeZone),
            String(Self.wholeSeconds(transfer.duration)),
            Self.field(event.client.address),
            String(transfer.bytes),
            Self.field(transfer.backendPath),
            transfer.type == .ascii ? "a" : "b",
            "_",
            transfer.direction == .download ? "o" : "i",
            "r",
            Self.field(event.user ?? "*"),
            "ftp",
            "0",
            "*",
            transfer.outcome == .completed ? "c" : "i",
        ]
        return fields.joined(separator: " ") + "\n"
    }

    /// Spaces and control characters become `_` (the format is split on spaces and one entry is one line).
    static func field(_ text: String) -> String {
        guard !text.isEmpty else { return "_" }
        return String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    scalar.properties.isWhitespace || scalar.properties.generalCategory == .control ? "_" : scalar
                }
            )
        )
    }

    /// Rounded to the nearest second, at least 1 (a reader may divide the size by it).
    static func wholeSeconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let rounded = seconds + (attoseconds >= 500_000_000_000_000_000 ? 1 : 0)
        return max(1, rounded)
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// ctime(3)'s form without the newline: `Fri Nov 20 09:12:32 2026`, `Tue Dec  1 08:00:00 2026`.
    static func time(_ date: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .month, .day, .hour, .minute, .second, .year], from: date)
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        let day = parts.day ?? 1
        return [
            Self.days[((parts.weekday ?? 1) - 1) % 7],
            Self.months[((parts.month ?? 1) - 1) % 12],
            day < 10 ? " \(day)" : "\(day)",
            "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))",
            "\(parts.year ?? 1970)",
        ].joined(separator: " ")
    }
}
