import FTPEventHandlers
import Foundation

/// `MonitoringOptions` merged with their `FSTPY_*` variables and checked: flag, then variable, then off.
struct MonitoringSettings {
    /// The ZeroMQ PUB port.
    var pubport: Int?
    var webhookURL: URL?
    var metricsAddress: (host: String, port: Int)?
    var xferlog: String?

    init(options: MonitoringOptions, environment: [String: String]) throws(StartupError) {
        func value(_ flag: String?, _ variable: String) -> String? {
            if let flag { return flag }
            if let text = environment[variable], !text.isEmpty { return text }
            return nil
        }
        if let pubport = options.pubport {
            self.pubport = pubport
        } else if let text = environment["FSTPY_PUBPORT"], !text.isEmpty {
            guard let number = Int(text) else { throw StartupError("FSTPY_PUBPORT='\(text)' is not a number") }
            self.pubport = number
        }
        if let pubport = self.pubport, !(0...65535).contains(pubport) {
            throw StartupError("--pubport must be between 0 and 65535, not \(pubport)")
        }
        if let text = value(options.webhookURL, "FSTPY_WEBHOOK_URL") {
            guard let url = URL(string: text), (try? WebhookEventHandler.validate(url)) != nil else {
                throw StartupError("--webhook-url must be an http:// or https:// URL with a host, not '\(text)'")
            }
            self.webhookURL = url
        }
        if let text = value(options.metricsAddress, "FSTPY_METRICS_ADDRESS") {
            guard let address = Self.hostAndPort(text) else {
                throw StartupError(
                    "--metrics-address must be HOST:PORT (e.g. 127.0.0.1:9100 or [::1]:9100), not '\(text)'"
                )
            }
            self.metricsAddress = address
        }
        if let path = value(options.xferlog, "FSTPY_XFERLOG") {
            self.xferlog = path
        }
    }

    /// `host:port`, `[v6]:port`; nil when it is neither or the port is out of range.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
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
        return (String(host), port)
    }
}
