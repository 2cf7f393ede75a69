import FTPProtocol
import FTPServer
import Foundation
import Logging
import VirtualFS

/// The daemon's settings after merging flags, `FSTPY_*` variables, the configuration file and defaults (in that
/// order of precedence, see ``SettingsLayers``), and checking them. The only place where settings become an
/// `FTPService.Configuration`.
struct Settings: Sendable {
    var fsURL: String?
    var configuration = FTPService.Configuration()
    var credentials: String
    /// Whether the credentials file was named explicitly (a missing default file may mean "first run").
    var credentialsExplicit: Bool
    var plainPasswords: Bool
    var keyfile: String
    var crtfile: String
    /// TLS was asked for: a key or certificate named (flag, variable or file), a TLS policy, or an implicit port.
    /// Then a missing or bad pair stops the daemon; otherwise it only turns FTPS off, with a warning.
    var tlsRequested: Bool
    /// The key or certificate path was given, not the default.
    var tlsFilesNamed: Bool
    var logLevel: Logger.Level
    /// --pubport, --webhook-url, --metrics-address, --xferlog (MonitoringSettings.swift).
    var monitoring = MonitoringSettings()
    /// The configuration file read, if any.
    var configFile: String?
    /// Every setting's effective value as text, with where it came from, in ``SettingKey/all`` order (for
    /// `--check-config`; secrets redacted).
    var effective: [EffectiveSetting] = []

    struct EffectiveSetting: Sendable {
        var key: SettingKey
        var text: String
        var source: SettingsLayers.Source
    }

    /// The embedded default for a first run.
    static let defaultRoot = "./ftp-root"
    static let defaultUser = "fstpy"

    init(
        flags: [SettingKey: String],
        environment: [String: String],
        configFile: String?
    ) async throws(StartupError) {
        let layers = try await SettingsLayers(flags: flags, environment: environment, configFile: configFile)
        var reader = Reader(layers: layers)
        self.configFile = layers.configFile

        self.fsURL = try reader.string(.fsURL, display: { (try? FileSystemURL($0).redacted) ?? "<url>" })
        let defaults = FTPService.Configuration()
        self.configuration.host = try reader.string(.address, default: defaults.host) ?? defaults.host
        self.configuration.port = try reader.integer(.port, in: 0...65535, default: defaults.port)
        let masquerade = try reader.string(.masquerade)
        if let masquerade, !IPAddressText.isIPv4(masquerade) {
            throw StartupError(
                "the masquerade address must be an IPv4 address (PASV replies carry IPv4 only), not '\(masquerade)'"
            )
        }
        self.configuration.passive.masqueradeAddress = masquerade
        let lower = try reader.integer(.passivePortsLower, in: 1...65535, default: 60200)
        let upper = try reader.integer(.passivePortsUpper, in: 1...65535, default: 60210)
        guard lower <= upper else {
            throw StartupError("the passive port range is empty: lower \(lower) is above upper \(upper)")
        }
        self.configuration.passive.ports = lower...upper
        let credentialsGiven = try layers.text(.credentials) != nil
        self.credentials = try reader.string(.credentials, default: "credentials.txt") ?? "credentials.txt"
        self.credentialsExplicit = credentialsGiven
        self.plainPasswords = try reader.bool(.plainPasswords, default: false)
        self.keyfile = try reader.string(.keyfile, default: "server.key") ?? "server.key"
        self.crtfile = try reader.string(.crtfile, default: "server.crt") ?? "server.crt"
        let keyfileGiven = try layers.text(.keyfile) != nil
        let crtfileGiven = try layers.text(.crtfile) != nil
        self.tlsFilesNamed = keyfileGiven || crtfileGiven
        self.configuration.tls.requiredOnControl = try reader.bool(.tlsRequired, default: false)
        self.configuration.tls.requiredOnData = try reader.bool(.tlsDataRequired, default: false)
        self.configuration.tls.requireSessionReuse = try reader.bool(.tlsRequireSessionReuse, default: false)
        if try layers.text(.implicitTLSPort) != nil {
            let port = try reader.integer(.implicitTLSPort, in: 0...65535, default: 0)
            if port > 0, port == self.configuration.port {
                throw StartupError("--implicit-tls-port \(port) is the control port too; give another port")
            }
            self.configuration.tls.implicitPort = port
        } else {
            _ = try reader.string(.implicitTLSPort)
        }
        let tls = self.configuration.tls
        self.tlsRequested =
            self.tlsFilesNamed || tls.requiredOnControl || tls.requiredOnData || tls.requireSessionReuse
            || tls.implicitPort != nil
        self.configuration.banner = try reader.string(.banner, default: defaults.banner) ?? defaults.banner
        self.logLevel = try reader.logLevel(.logLevel, default: .info)
        self.configuration.commandLogLevel = try reader.logLevel(.commandLogLevel, default: defaults.commandLogLevel)

        let limits = defaults.limits
        self.configuration.limits.maximumConnections = try reader.integer(
            .maxConnections,
            in: 1...1_000_000,
            default: limits.maximumConnections
        )
        self.configuration.limits.maximumConnectionsPerAddress = try reader.integer(
            .maxConnectionsPerIP,
            in: 1...1_000_000,
            default: limits.maximumConnectionsPerAddress
        )
        self.configuration.limits.maximumLineLength = try reader.integer(
            .maxLineLength,
            in: 64...1_048_576,
            default: limits.maximumLineLength
        )
        self.configuration.limits.maximumLoginAttempts = try reader.integer(
            .maxLoginAttempts,
            in: 1...1000,
            default: limits.maximumLoginAttempts
        )
        self.configuration.limits.dataReceiveBuffer = try reader.byteSize(
            .dataReceiveBuffer,
            in: 65536...(1 << 30),
            default: limits.dataReceiveBuffer
        )

        let timeouts = defaults.timeouts
        let positive = Duration.milliseconds(1)...Duration.seconds(365 * 86400)
        let anyLength = Duration.zero...Duration.seconds(365 * 86400)
        self.configuration.timeouts.idle = try reader.duration(.idleTimeout, in: positive, default: timeouts.idle)
        self.configuration.timeouts.dataConnection = try reader.duration(
            .dataTimeout,
            in: positive,
            default: timeouts.dataConnection
        )
        self.configuration.timeouts.stalledTransfer = try reader.duration(
            .stalledTransferTimeout,
            in: positive,
            default: timeouts.stalledTransfer
        )
        self.configuration.timeouts.replyWrite = try reader.duration(
            .replyTimeout,
            in: positive,
            default: timeouts.replyWrite
        )
        self.configuration.timeouts.failedLoginDelay = try reader.duration(
            .failedLoginDelay,
            in: anyLength,
            default: timeouts.failedLoginDelay
        )
        self.configuration.timeouts.maximumFailedLoginDelay = try reader.duration(
            .failedLoginDelayMax,
            in: anyLength,
            default: timeouts.maximumFailedLoginDelay
        )
        if self.configuration.timeouts.maximumFailedLoginDelay < self.configuration.timeouts.failedLoginDelay {
            throw StartupError(
                "--failed-login-delay-max (\(SettingValue.text(self.configuration.timeouts.maximumFailedLoginDelay)))"
                    + " is below --failed-login-delay (\(SettingValue.text(self.configuration.timeouts.failedLoginDelay)))"
            )
        }
        self.configuration.timeouts.shutdown = try reader.duration(
            .shutdownTimeout,
            in: anyLength,
            default: timeouts.shutdown
        )

        let ban = FTPService.Configuration.LoginBan()
        let banFailures = try reader.integer(.banFailures, in: 0...1_000_000, default: ban.maximumFailures)
        let banWindow = try reader.duration(.banWindow, in: positive, default: ban.window)
        let banDuration = try reader.duration(.banDuration, in: positive, default: ban.duration)
        self.configuration.loginBan =
            banFailures == 0
            ? nil
            : .init(maximumFailures: banFailures, window: banWindow, duration: banDuration)

        self.configuration.bandwidth = .init(
            maximumDownloadRate: try reader.rate(.maxDownloadRate),
            maximumUploadRate: try reader.rate(.maxUploadRate),
            userMaximumDownloadRate: try reader.rate(.userMaxDownloadRate),
            userMaximumUploadRate: try reader.rate(.userMaxUploadRate)
        )
        self.monitoring = try MonitoringSettings(reader: &reader)
        self.effective = reader.effective
    }

    /// Reads settings from the layers as text, parses them, and records what each one ends up as.
    struct Reader {
        let layers: SettingsLayers
        var effective: [EffectiveSetting] = []

        private mutating func record(_ key: SettingKey, _ text: String, _ source: SettingsLayers.Source) {
            self.effective.append(.init(key: key, text: key.isSecret ? "<redacted>" : text, source: source))
        }

        /// A value parsed by `parse`, or `defaultValue` when no layer sets it.
        private mutating func value<Value>(
            _ key: SettingKey,
            default defaultValue: Value,
            display: (Value) -> String,
            parse: (String, SettingsLayers.Source) throws(StartupError) -> Value
        ) throws(StartupError) -> Value {
            guard let (text, source) = try self.layers.text(key) else {
                self.record(key, display(defaultValue), .defaultValue)
                return defaultValue
            }
            let value = try parse(text, source)
            self.record(key, display(value), source)
            return value
        }

        mutating func string(
            _ key: SettingKey,
            default defaultValue: String? = nil,
            display: (String) -> String = { $0 }
        ) throws(StartupError) -> String? {
            try self.value(key, default: defaultValue, display: { $0.map(display) ?? "(none)" }) { text, _ in text }
        }

        mutating func integer(
            _ key: SettingKey,
            in range: ClosedRange<Int>,
            default defaultValue: Int
        ) throws(StartupError) -> Int {
            try self.value(key, default: defaultValue, display: { String($0) }) { text, source throws(StartupError) in
                guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                    throw Self.invalid(key, source, text, "is not a number")
                }
                guard range.contains(number) else {
                    throw StartupError(
                        "\(source.naming(key)) must be between \(range.lowerBound) and \(range.upperBound), not \(number)"
                    )
                }
                return number
            }
        }

        mutating func duration(
            _ key: SettingKey,
            in range: ClosedRange<Duration>,
            default defaultValue: Duration
        ) throws(StartupError) -> Duration {
            try self.value(key, default: defaultValue, display: SettingValue.text) {
                text,
                source throws(StartupError) in
                guard let duration = SettingValue.duration(text) else {
                    throw Self.invalid(key, source, text, "is not a duration (e.g. 30s, 500ms, 5m, 1h)")
                }
                guard range.contains(duration) else {
                    throw StartupError(
                        "\(source.naming(key)) must be between \(SettingValue.text(range.lowerBound)) and "
                            + "\(SettingValue.text(range.upperBound)), not \(text)"
                    )
                }
                return duration
            }
        }

        mutating func rate(_ key: SettingKey) throws(StartupError) -> Int? {
            try self.value(key, default: nil, display: { SettingValue.text(rate: $0) }) {
                text,
                source throws(StartupError) in
                switch SettingValue.rate(text) {
                case .limit(let bytes): return bytes
                case .unlimited: return nil
                case .invalid:
                    throw Self.invalid(key, source, text, "is not a rate in bytes a second (e.g. 512K, 10M, 0)")
                }
            }
        }

        /// A size in bytes with an optional binary K, M or G (`4M`, `512K`); `0` (or `off`) gives nil.
        mutating func byteSize(
            _ key: SettingKey,
            in range: ClosedRange<Int>,
            default defaultValue: Int?
        ) throws(StartupError) -> Int? {
            try self.value(key, default: defaultValue, display: { $0.map { SettingValue.text(rate: $0) } ?? "0" }) {
                text,
                source throws(StartupError) in
                switch SettingValue.rate(text) {
                case .unlimited: return nil
                case .invalid: throw Self.invalid(key, source, text, "is not a size in bytes (e.g. 4M, 512K, 0)")
                case .limit(let bytes):
                    guard range.contains(bytes) else {
                        throw StartupError(
                            "\(source.naming(key)) must be 0 or between \(SettingValue.text(rate: range.lowerBound)) "
                                + "and \(SettingValue.text(rate: range.upperBound)), not \(text)"
                        )
                    }
                    return bytes
                }
            }
        }

        mutating func bool(_ key: SettingKey, default defaultValue: Bool) throws(StartupError) -> Bool {
            try self.value(key, default: defaultValue, display: { String($0) }) { text, source throws(StartupError) in
                guard let flag = SettingValue.bool(text) else {
                    throw Self.invalid(key, source, text, "is not true or false")
                }
                return flag
            }
        }

        mutating func logLevel(_ key: SettingKey, default defaultValue: Logger.Level) throws(StartupError)
            -> Logger.Level
        {
            try self.value(key, default: defaultValue, display: { $0.rawValue }) { text, source throws(StartupError) in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw StartupError(
                        "unknown log level '\(text)' for \(source.naming(key)) "
                            + "(trace, debug, info, notice, warning, error, critical)"
                    )
                }
                return level
            }
        }

        private static func invalid(
            _ key: SettingKey,
            _ source: SettingsLayers.Source,
            _ text: String,
            _ problem: String
        ) -> StartupError {
            switch source {
            case .environment(let variable): StartupError("\(variable)='\(text)' \(problem)")
            default: StartupError("\(source.naming(key)): '\(text)' \(problem)")
            }
        }
    }

    /// The URL for logs, without a password.
    var redactedURL: String {
        guard let fsURL else { return "osfs://\(Self.defaultRoot)" }
        return (try? FileSystemURL(fsURL).redacted) ?? "<url>"
    }

    /// Whether this is the first run: no URL and no credentials file, so ./ftp-root is served to a random password.
    var isFirstRun: Bool {
        self.fsURL == nil && !self.credentialsExplicit && !FileManager.default.fileExists(atPath: self.credentials)
    }

    /// Opens the storage, or explains in one line why not. With `creatingDefaultRoot`, a first run creates
    /// ./ftp-root.
    func openStorage(creatingDefaultRoot: Bool = true) async throws(StartupError) -> any VirtualFileSystem {
        do {
            if let fsURL = self.fsURL {
                return try await FileSystemRegistry.fstpyd.open(fsURL)
            }
            if creatingDefaultRoot {
                try FileManager.default.createDirectory(atPath: Self.defaultRoot, withIntermediateDirectories: true)
            }
            return try LocalFileSystem(root: Self.defaultRoot)
        } catch {
            throw StartupError("\(error)")
        }
    }

    /// Loads the credentials file into an authorizer (one line of error naming file and line on failure).
    func loadUsers(in fileSystem: any VirtualFileSystem) async throws(StartupError) -> any Authorizer {
        guard FileManager.default.fileExists(atPath: self.credentials) else {
            throw StartupError(
                "credentials file '\(self.credentials)' not found (one line a user: user;md5-of-password;home;permissions)"
            )
        }
        do {
            if self.plainPasswords {
                return try await PlainPasswordAuthorizer(fileSystem: fileSystem, credentialsFile: self.credentials)
            }
            return try await MD5Authorizer(fileSystem: fileSystem, credentialsFile: self.credentials)
        } catch {
            throw StartupError("\(error)")
        }
    }

    /// Opens the storage and builds the authorizer, or explains in one line why not. The authorizer reloads the
    /// credentials file on ``ReloadableAuthorizer/reload()`` (SIGHUP); a first run has no file to reload.
    func openStorageAndUsers(logger: Logger) async throws(StartupError) -> (
        any VirtualFileSystem, any Authorizer, ReloadableAuthorizer?
    ) {
        let firstRun = self.isFirstRun
        let fileSystem = try await self.openStorage()
        if firstRun {
            let password = Self.randomPassword()
            let entry = CredentialsEntry(
                user: Self.defaultUser,
                secret: password,
                home: "/",
                permissions: .all,
                loginMessage: nil,
                logoutMessage: nil
            )
            let banner = """
                fstpyd: no FS_URL and no \(self.credentials): serving \(Self.defaultRoot) for a first try.
                fstpyd: log in as user '\(Self.defaultUser)' with password '\(password)' (shown only now; \
                write a \(self.credentials) to choose your own users).

                """
            FileHandle.standardError.write(Data(banner.utf8))
            return (fileSystem, PlainPasswordAuthorizer(entries: [entry]), nil)
        }
        let initial = try await self.loadUsers(in: fileSystem)
        let settings = self
        let reloadable = ReloadableAuthorizer(initial: initial) {
            try await settings.loadUsers(in: fileSystem)
        }
        return (fileSystem, reloadable, reloadable)
    }

    /// The TLS identity to serve FTPS with, or nil for plain FTP only.
    ///
    /// The pair comes from the key and certificate files. When neither default file exists: the first run makes a
    /// self-signed certificate in memory and prints its fingerprint; otherwise FTPS is off (an error when TLS was
    /// asked for). A missing, unreadable or mismatched pair is an error when TLS was asked for, else a warning.
    func tlsIdentity(firstRun: Bool, logger: Logger) throws(StartupError) -> TLSIdentityStore? {
        let manager = FileManager.default
        let neitherFile = !manager.fileExists(atPath: self.keyfile) && !manager.fileExists(atPath: self.crtfile)
        if neitherFile && !self.tlsFilesNamed {
            if firstRun {
                let identity: TLSIdentity
                do {
                    identity = try TLSIdentity.selfSigned()
                } catch {
                    throw StartupError("cannot make a self-signed TLS certificate: \(error)")
                }
                let note = """
                    fstpyd: FTPS is on with a self-signed certificate made for this run (no \(self.crtfile)); \
                    its SHA-256 fingerprint is \(identity.fingerprint)

                    """
                FileHandle.standardError.write(Data(note.utf8))
                return TLSIdentityStore(identity: identity)
            }
            if self.tlsRequested {
                throw StartupError(
                    "TLS is asked for but there is no \(self.crtfile) and no \(self.keyfile) (give --crtfile and --keyfile)"
                )
            }
            // Plain FTP, as the original without its key files; the "serving" log line says FTPS is off.
            return nil
        }
        do {
            let store = try TLSIdentityStore(certificateFile: self.crtfile, keyFile: self.keyfile)
            let identity = store.current
            if identity.notValidAfter < Date() {
                logger.warning("the TLS certificate \(self.crtfile) expired on \(identity.notValidAfter)")
            }
            return store
        } catch {
            if self.tlsRequested {
                throw StartupError("cannot use the TLS key and certificate: \(error.message)")
            }
            logger.warning("FTPS is off: \(error.message)")
            return nil
        }
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
