import ArgumentParser

/// The flags for events, metrics and the transfer log. Each has an `FSTPY_*` variable and a configuration file key of
/// the same name (`pubport`, `webhook-url`, `metrics-address`, `xferlog`); all are off by default.
struct MonitoringOptions: ParsableArguments {
    @Option(
        name: .customLong("pubport"),
        help: """
            Publish "<first path segment> <path>" for every file received on a ZeroMQ PUB socket on this port \
            (bound on --address), as the original FsTPy did. Env: FSTPY_PUBPORT. Default: off.
            """
    )
    var pubport: Int?

    @Option(
        name: .customLong("webhook-url"),
        help: """
            POST a JSON body per event (connect, login, file received...) to this http(s) URL. \
            Env: FSTPY_WEBHOOK_URL. Default: off.
            """
    )
    var webhookURL: String?

    @Option(
        name: .customLong("metrics-address"),
        help: """
            Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9100, [::1]:9100). \
            Env: FSTPY_METRICS_ADDRESS. Default: off.
            """
    )
    var metricsAddress: String?

    @Option(
        name: .customLong("xferlog"),
        help: "Append a line in the classic xferlog format per transfer to this file. Env: FSTPY_XFERLOG. Default: off."
    )
    var xferlog: String?

    /// The flags given, as text by setting.
    var given: [SettingKey: String] {
        var values: [SettingKey: String] = [:]
        values[.pubport] = self.pubport.map(String.init)
        values[.webhookURL] = self.webhookURL
        values[.metricsAddress] = self.metricsAddress
        values[.xferlog] = self.xferlog
        return values
    }
}
