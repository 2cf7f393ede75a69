import FTPProtocol
import FTPServer
import Foundation
import Logging
import VirtualFS

/// The daemon's settings after merging flags, `FSTPY_*` variables and defaults (in that order of precedence), and
/// checking them. The only place flags and variables become an `FTPService.Configuration`.
struct Settings {
    var fsURL: String?
    var configuration = FTPService.Configuration()
    var credentials: String
    /// Whether the credentials file was named explicitly (a missing default file may mean "first run").
    var credentialsExplicit: Bool
    var plainPasswords: Bool
    var keyfile: String
    var crtfile: String
    var logLevel: Logger.Level

    /// The embedded default for a first run.
    static let defaultRoot = "./ftp-root"
    static let defaultUser = "fstpy"

    init(command: FstpydCommand, environment: [String: String]) throws(StartupError) {
        func value(_ flag: String?, _ variable: String) -> String? {
            if let flag { return flag }
            if let text = environment[variable], !text.isEmpty { return text }
            return nil
        }
        func number(_ flag: Int?, _ variable: String, _ name: String, in range: ClosedRange<Int>) throws(StartupError)
            -> Int?
        {
            let parsed: Int?
            if let flag {
                parsed = flag
            } else if let text = environment[variable], !text.isEmpty {
                guard let value = Int(text) else { throw StartupError("\(variable)='\(text)' is not a number") }
                parsed = value
            } else {
                parsed = nil
            }
            if let parsed, !range.contains(parsed) {
                throw StartupError("\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(parsed)")
            }
            return parsed
        }

        self.fsURL = command.fsURL
        if let host = value(command.address, "FSTPY_HOST") { self.configuration.host = host }
        if let port = try number(command.port, "FSTPY_PORT", "the port", in: 0...65535) {
            self.configuration.port = port
        }
        self.configuration.passive.masqueradeAddress = value(command.masquerade, "FSTPY_MASQUERADE")
        if let masquerade = self.configuration.passive.masqueradeAddress, !IPAddressText.isIPv4(masquerade) {
            throw StartupError(
                "the masquerade address must be an IPv4 address (PASV replies carry IPv4 only), not '\(masquerade)'"
            )
        }
        let lower =
            try number(command.passivePortsLower, "FSTPY_PASSIVE_LOWER", "the lowest passive port", in: 1...65535)
            ?? 60200
        let upper =
            try number(command.passivePortsUpper, "FSTPY_PASSIVE_UPPER", "the highest passive port", in: 1...65535)
            ?? 60210
        guard lower <= upper else {
            throw StartupError("the passive port range is empty: lower \(lower) is above upper \(upper)")
        }
        self.configuration.passive.ports = lower...upper
        if let banner = value(command.banner, "FSTPY_BANNER") { self.configuration.banner = banner }
        if let maximum = try number(
            command.maxConnections,
            "FSTPY_MAX_CONNECTIONS",
            "--max-connections",
            in: 1...1_000_000
        ) {
            self.configuration.limits.maximumConnections = maximum
        }
        if let maximum = try number(
            command.maxConnectionsPerIP,
            "FSTPY_MAX_CONNECTIONS_PER_IP",
            "--max-connections-per-ip",
            in: 1...1_000_000
        ) {
            self.configuration.limits.maximumConnectionsPerAddress = maximum
        }
        let credentials = value(command.credentials, "FSTPY_CREDENTIALS")
        self.credentials = credentials ?? "credentials.txt"
        self.credentialsExplicit = credentials != nil
        self.plainPasswords = command.plainPasswords
        self.keyfile = value(command.keyfile, "FSTPY_KEYFILE") ?? "server.key"
        self.crtfile = value(command.crtfile, "FSTPY_CRTFILE") ?? "server.crt"
        let level = command.logLevel ?? "info"
        guard let logLevel = Logger.Level(rawValue: level.lowercased()) else {
            throw StartupError("unknown log level '\(level)' (trace, debug, info, notice, warning, error, critical)")
        }
        self.logLevel = logLevel
    }

    /// The URL for logs, without a password.
    var redactedURL: String {
        guard let fsURL else { return "osfs://\(Self.defaultRoot)" }
        return (try? FileSystemURL(fsURL).redacted) ?? "<url>"
    }

    /// Opens the storage and builds the authorizer, or explains in one line why not.
    func openStorageAndUsers(logger: Logger) async throws(StartupError) -> (any VirtualFileSystem, any Authorizer) {
        let firstRun =
            self.fsURL == nil && !self.credentialsExplicit
            && !FileManager.default.fileExists(atPath: self.credentials)
        let fileSystem: any VirtualFileSystem
        do {
            if let fsURL = self.fsURL {
                fileSystem = try await FileSystemRegistry.fstpyd.open(fsURL)
            } else {
                try FileManager.default.createDirectory(atPath: Self.defaultRoot, withIntermediateDirectories: true)
                fileSystem = try LocalFileSystem(root: Self.defaultRoot)
            }
        } catch {
            throw StartupError("\(error)")
        }
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
            return (fileSystem, PlainPasswordAuthorizer(entries: [entry]))
        }
        guard FileManager.default.fileExists(atPath: self.credentials) else {
            throw StartupError(
                "credentials file '\(self.credentials)' not found (one line a user: user;md5-of-password;home;permissions)"
            )
        }
        do {
            if self.plainPasswords {
                return (
                    fileSystem,
                    try await PlainPasswordAuthorizer(fileSystem: fileSystem, credentialsFile: self.credentials)
                )
            }
            return (fileSystem, try await MD5Authorizer(fileSystem: fileSystem, credentialsFile: self.credentials))
        } catch {
            throw StartupError("\(error)")
        }
    }

    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
