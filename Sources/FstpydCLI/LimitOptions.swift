import ArgumentParser

/// The flags for limits, timeouts, bandwidth, shutdown and command logging. Durations take a unit (`30s`, `500ms`,
/// `5m`, `1h`; a plain number is seconds); rates are bytes a second with an optional K, M or G (`512K`, `10M`),
/// `0` for no limit. Each has an `FSTPY_*` variable and a configuration file key of the same name.
struct LimitOptions: ParsableArguments {
    @Option(name: .customLong("max-line-length"), help: "Longest command line, in bytes. Default: 8192.")
    var maxLineLength: Int?

    @Option(
        name: .customLong("max-login-attempts"),
        help: "Failed logins on one connection before it is closed with 421. Default: 3."
    )
    var maxLoginAttempts: Int?

    @Option(
        name: .customLong("data-receive-buffer"),
        help: "Kernel receive buffer of each data connection (e.g. 4M; 0: the kernel sizes it). Default: 4M."
    )
    var dataReceiveBuffer: String?

    @Option(name: .customLong("idle-timeout"), help: "Idle control connection timeout. Default: 300s.")
    var idleTimeout: String?

    @Option(
        name: .customLong("data-timeout"),
        help: "How long a transfer waits for its data connection. Default: 30s."
    )
    var dataTimeout: String?

    @Option(
        name: .customLong("stalled-transfer-timeout"),
        help: "A data connection with no byte moved for this long is closed (426). Default: 60s."
    )
    var stalledTransferTimeout: String?

    @Option(
        name: .customLong("reply-timeout"),
        help: "A client that does not read a reply for this long is disconnected. Default: 60s."
    )
    var replyTimeout: String?

    @Option(
        name: .customLong("failed-login-delay"),
        help: "Pause after a failed login, doubling with each failure on a connection. Default: 1s."
    )
    var failedLoginDelay: String?

    @Option(name: .customLong("failed-login-delay-max"), help: "Longest pause after a failed login. Default: 8s.")
    var failedLoginDelayMax: String?

    @Option(
        name: .customLong("ban-failures"),
        help: "Failed logins from one address within --ban-window that ban it (421); 0: no bans. Default: 10."
    )
    var banFailures: Int?

    @Option(name: .customLong("ban-window"), help: "How far back failed logins count for a ban. Default: 10m.")
    var banWindow: String?

    @Option(name: .customLong("ban-duration"), help: "How long a ban lasts. Default: 15m.")
    var banDuration: String?

    @Option(
        name: .customLong("max-download-rate"),
        help: "All downloads together, bytes/s (e.g. 10M, 512K; 0: unlimited). Default: unlimited."
    )
    var maxDownloadRate: String?

    @Option(name: .customLong("max-upload-rate"), help: "All uploads together, bytes/s. Default: unlimited.")
    var maxUploadRate: String?

    @Option(
        name: .customLong("user-max-download-rate"),
        help: "Each user's downloads, across their sessions, bytes/s. Default: unlimited."
    )
    var userMaxDownloadRate: String?

    @Option(
        name: .customLong("user-max-upload-rate"),
        help: "Each user's uploads, across their sessions, bytes/s. Default: unlimited."
    )
    var userMaxUploadRate: String?

    @Option(
        name: .customLong("shutdown-timeout"),
        help: "On SIGTERM/SIGINT, how long transfers in flight may take to finish. Default: 30s."
    )
    var shutdownTimeout: String?

    @Option(
        name: .customLong("command-log-level"),
        help: "Level of the one log line per command (debug hides them at the default --log-level). Default: info."
    )
    var commandLogLevel: String?

    /// The flags given, as text by setting.
    var given: [SettingKey: String] {
        var values: [SettingKey: String] = [:]
        values[.maxLineLength] = self.maxLineLength.map(String.init)
        values[.maxLoginAttempts] = self.maxLoginAttempts.map(String.init)
        values[.dataReceiveBuffer] = self.dataReceiveBuffer
        values[.idleTimeout] = self.idleTimeout
        values[.dataTimeout] = self.dataTimeout
        values[.stalledTransferTimeout] = self.stalledTransferTimeout
        values[.replyTimeout] = self.replyTimeout
        values[.failedLoginDelay] = self.failedLoginDelay
        values[.failedLoginDelayMax] = self.failedLoginDelayMax
        values[.banFailures] = self.banFailures.map(String.init)
        values[.banWindow] = self.banWindow
        values[.banDuration] = self.banDuration
        values[.maxDownloadRate] = self.maxDownloadRate
        values[.maxUploadRate] = self.maxUploadRate
        values[.userMaxDownloadRate] = self.userMaxDownloadRate
        values[.userMaxUploadRate] = self.userMaxUploadRate
        values[.shutdownTimeout] = self.shutdownTimeout
        values[.commandLogLevel] = self.commandLogLevel
        return values
    }
}
