import FTPEventHandlers
import Foundation

/// `--pubport`, `--webhook-url`, `--metrics-address` and `--xferlog`, read like every other setting (flag, then
/// variable, then configuration file; all off by default) and checked.
struct MonitoringSettings: Sendable {
    /// The ZeroMQ PUB port.
    var pubport: Int?
    var webhookURL: URL?
    var metricsAddress: HostAndPort?
    var xferlog: String?

    struct HostAndPort: Sendable, Hashable {
        var host: String
        var port: Int
    }

    init() {}

    init(reader: inout Settings.Reader) throws(StartupError) {
        // How an error names a setting: by the flag, the variable or the file it came from.
        func naming(_ key: SettingKey) throws(StartupError) -> String {
            try reader.layers.text(key)?.source.naming(key) ?? key.flag
        }
        if let text = try reader.string(.pubport) {
            guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (0...65535).contains(port) else {
                throw StartupError("\(try naming(.pubport)) must be a port between 0 and 65535, not '\(text)'")
            }
            self.pubport = port
        }
        if let text = try reader.string(.webhookURL, display: Self.redacted) {
            guard let url = URL(string: text), (try? WebhookEventHandler.validate(url)) != nil else {
                throw StartupError(
                    "\(try naming(.webhookURL)) must be an http:// or https:// URL with a host, "
                        + "not '\(Self.redacted(text))'"
                )
            }
            self.webhookURL = url
        }
        if let text = try reader.string(.metricsAddress) {
            guard let address = Self.hostAndPort(text) else {
                throw StartupError(
                    "\(try naming(.metricsAddress)) must be HOST:PORT (e.g. 127.0.0.1:9100 or [::1]:9100), "
                        + "not '\(text)'"
                )
            }
            self.metricsAddress = address
        }
        self.xferlog = try reader.string(.xferlog)
    }

    /// A URL without its password, for logs and --check-config.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? "<url>"
    }

    /// `host:port`, `[v6]:port`; nil when it is neither or the port is out of range.
    static func hostAndPort(_ text: String) -> HostAndPort? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return HostAndPort(host: String(host), port: port)
    }
}
