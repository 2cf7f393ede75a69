import FTPProtocol
import Logging
import NIOCore

/// The log lines every session writes, with one set of metadata keys: `ftp.client` (address:port) and `ftp.user`
/// on every line of a session (logger metadata), `ftp.command`, `ftp.argument`, `ftp.reply` per command, and
/// `ftp.verb`, `ftp.path`, `ftp.bytes`, `ftp.duration`, `ftp.result` per transfer. Never a password.
extension Logger {
    /// This logger with the client's address in its metadata.
    package func with(client channel: any Channel) -> Logger {
        var logger = self
        logger[metadataKey: "ftp.client"] = "\(channel.remoteAddress?.displayText ?? "?")"
        return logger
    }

    /// One command's outcome: its verb, its argument where harmless (PASS and ACCT show `<redacted>`), and the code
    /// of the last reply it got.
    package func logCommand(_ command: FTPCommand, reply: Int?, level: Logger.Level) {
        // Nothing is built for a line that is not written (every command of every session passes here).
        guard self.logLevel <= level else { return }
        var metadata: Logger.Metadata = ["ftp.command": "\(command.verb)"]
        if let argument = command.loggableArgument {
            metadata["ftp.argument"] = "\(LogText.sanitized(argument))"
        }
        if let reply {
            metadata["ftp.reply"] = "\(reply)"
        }
        self.log(level: level, "command", metadata: metadata)
    }

    /// A line that was not a command (unknown verb, bad argument, too long, not UTF-8).
    package func logRefusedLine(_ reason: String, reply: Int?, level: Logger.Level) {
        guard self.logLevel <= level else { return }
        var metadata: Logger.Metadata = ["ftp.error": "\(LogText.sanitized(reason))"]
        if let reply {
            metadata["ftp.reply"] = "\(reply)"
        }
        self.log(level: level, "command refused", metadata: metadata)
    }
}

/// Client-supplied text made safe for a log line.
package enum LogText {
    /// At most `limit` characters, control characters (CR, LF, ESC...) escaped as `\u{..}`, so that a client cannot
    /// forge log lines or drive a terminal.
    package static func sanitized(_ text: String, limit: Int = 256) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                result += "…"
                break
            }
            if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return result
    }
}
