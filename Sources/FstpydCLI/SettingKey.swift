/// One setting of the daemon: its name, which is both the long flag (`--name`) and the key in a configuration file,
/// and its `FSTPY_*` environment variable. Every setting is listed in ``all``, in the order `--check-config`
/// prints them; a key in a configuration file that is not listed there is an error.
struct SettingKey: Hashable, Sendable {
    /// The flag's long name without dashes, and the configuration file's key.
    var name: String
    /// The environment variable.
    var variable: String
    /// Shown as `<redacted>` by `--check-config`.
    var isSecret = false

    init(_ name: String, _ variable: String, isSecret: Bool = false) {
        self.name = name
        self.variable = variable
        self.isSecret = isSecret
    }

    /// How a message names this setting when it came from a flag.
    var flag: String { "--\(self.name)" }
}

extension SettingKey {
    static let fsURL = SettingKey("fs-url", "FSTPY_FS_URL", isSecret: false)
    static let address = SettingKey("address", "FSTPY_HOST")
    static let port = SettingKey("port", "FSTPY_PORT")
    static let masquerade = SettingKey("masquerade", "FSTPY_MASQUERADE")
    static let passivePortsLower = SettingKey("passive-ports-lower", "FSTPY_PASSIVE_LOWER")
    static let passivePortsUpper = SettingKey("passive-ports-upper", "FSTPY_PASSIVE_UPPER")
    static let credentials = SettingKey("credentials", "FSTPY_CREDENTIALS")
    static let plainPasswords = SettingKey("plain-passwords", "FSTPY_PLAIN_PASSWORDS")
    static let keyfile = SettingKey("keyfile", "FSTPY_KEYFILE")
    static let crtfile = SettingKey("crtfile", "FSTPY_CRTFILE")
    static let implicitTLSPort = SettingKey("implicit-tls-port", "FSTPY_IMPLICIT_TLS_PORT")
    static let tlsRequired = SettingKey("tls-required", "FSTPY_TLS_REQUIRED")
    static let tlsDataRequired = SettingKey("tls-data-required", "FSTPY_TLS_DATA_REQUIRED")
    static let tlsRequireSessionReuse = SettingKey("tls-require-session-reuse", "FSTPY_TLS_REQUIRE_SESSION_REUSE")
    static let banner = SettingKey("banner", "FSTPY_BANNER")
    static let logLevel = SettingKey("log-level", "FSTPY_LOG_LEVEL")
    static let commandLogLevel = SettingKey("command-log-level", "FSTPY_COMMAND_LOG_LEVEL")

    static let maxConnections = SettingKey("max-connections", "FSTPY_MAX_CONNECTIONS")
    static let maxConnectionsPerIP = SettingKey("max-connections-per-ip", "FSTPY_MAX_CONNECTIONS_PER_IP")
    static let maxLineLength = SettingKey("max-line-length", "FSTPY_MAX_LINE_LENGTH")
    static let maxLoginAttempts = SettingKey("max-login-attempts", "FSTPY_MAX_LOGIN_ATTEMPTS")
    static let dataReceiveBuffer = SettingKey("data-receive-buffer", "FSTPY_DATA_RECEIVE_BUFFER")
    static let idleTimeout = SettingKey("idle-timeout", "FSTPY_IDLE_TIMEOUT")
    static let dataTimeout = SettingKey("data-timeout", "FSTPY_DATA_TIMEOUT")
    static let stalledTransferTimeout = SettingKey("stalled-transfer-timeout", "FSTPY_STALLED_TRANSFER_TIMEOUT")
    static let replyTimeout = SettingKey("reply-timeout", "FSTPY_REPLY_TIMEOUT")
    static let failedLoginDelay = SettingKey("failed-login-delay", "FSTPY_FAILED_LOGIN_DELAY")
    static let failedLoginDelayMax = SettingKey("failed-login-delay-max", "FSTPY_FAILED_LOGIN_DELAY_MAX")
    static let banFailures = SettingKey("ban-failures", "FSTPY_BAN_FAILURES")
    static let banWindow = SettingKey("ban-window", "FSTPY_BAN_WINDOW")
    static let banDuration = SettingKey("ban-duration", "FSTPY_BAN_DURATION")
    static let maxDownloadRate = SettingKey("max-download-rate", "FSTPY_MAX_DOWNLOAD_RATE")
    static let maxUploadRate = SettingKey("max-upload-rate", "FSTPY_MAX_UPLOAD_RATE")
    static let userMaxDownloadRate = SettingKey("user-max-download-rate", "FSTPY_USER_MAX_DOWNLOAD_RATE")
    static let userMaxUploadRate = SettingKey("user-max-upload-rate", "FSTPY_USER_MAX_UPLOAD_RATE")
    static let shutdownTimeout = SettingKey("shutdown-timeout", "FSTPY_SHUTDOWN_TIMEOUT")
    static let pubport = SettingKey("pubport", "FSTPY_PUBPORT")
    static let webhookURL = SettingKey("webhook-url", "FSTPY_WEBHOOK_URL")
    static let metricsAddress = SettingKey("metrics-address", "FSTPY_METRICS_ADDRESS")
    static let xferlog = SettingKey("xferlog", "FSTPY_XFERLOG")

    /// Every setting a flag, a variable or a configuration file can set, in `--check-config` order. (`--config`
    /// itself, `FSTPY_CONFIG`, and `--check-config` are not settings: they say where the settings come from.)
    static let all: [SettingKey] = [
        .fsURL, .address, .port, .masquerade, .passivePortsLower, .passivePortsUpper, .credentials, .plainPasswords,
        .keyfile, .crtfile, .implicitTLSPort, .tlsRequired, .tlsDataRequired, .tlsRequireSessionReuse, .banner,
        .logLevel, .commandLogLevel,
        .maxConnections, .maxConnectionsPerIP, .maxLineLength, .maxLoginAttempts, .dataReceiveBuffer, .idleTimeout,
        .dataTimeout,
        .stalledTransferTimeout, .replyTimeout, .failedLoginDelay, .failedLoginDelayMax, .banFailures, .banWindow,
        .banDuration, .maxDownloadRate, .maxUploadRate, .userMaxDownloadRate, .userMaxUploadRate, .shutdownTimeout,
        .pubport, .webhookURL, .metricsAddress, .xferlog,
    ]

    /// The variable naming the configuration file.
    static let configVariable = "FSTPY_CONFIG"
}
