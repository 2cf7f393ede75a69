import ArgumentParser

/// The daemon's flags for events, metrics and the transfer log (each also read from an `FSTPY_*` variable; a flag
/// wins over its variable).
public struct MonitoringOptions: ParsableArguments {
    @Option(
        name: .customLong("pubport"),
        help: """
            Publish "<first path segment> <path>" for every file received on a ZeroMQ PUB socket on this port \
            (bound on --address), as the original FsTPy did. Env: FSTPY_PUBPORT. Default: off.
            """
    )
    public var pubport: Int?

    @Option(
        name: .customLong("webhook-url"),
        help: """
            POST a JSON body per event (connect, login, file received...) to this http(s) URL. \
            Env: FSTPY_WEBHOOK_URL. Default: off.
            """
    )
    public var webhookURL: String?

    @Option(
        name: .customLong("metrics-address"),
        help: """
            Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9100, [::1]:9100). \
            Env: FSTPY_METRICS_ADDRESS. Default: off.
            """
    )
    public var metricsAddress: String?

    @Option(
        name: .customLong("xferlog"),
        help: "Append a line in the classic xferlog format per transfer to this file. Env: FSTPY_XFERLOG. Default: off."
    )
    public var xferlog: String?

    public init() {}
}
