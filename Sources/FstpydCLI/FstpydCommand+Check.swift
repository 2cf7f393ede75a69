import FTPServer
import Foundation
import NIOCore

extension FstpydCommand {
    /// `--check-config`: checks what serving would check before listening (the storage URL, the credentials file
    /// and every home in it, the listen address), without listening, so it can run beside a live server. Prints the
    /// effective settings, one a line with where each came from, and returns; throws a ``StartupError`` otherwise.
    static func check(_ settings: Settings) async throws(StartupError) {
        var notes: [String] = []
        if settings.isFirstRun {
            notes.append("no FS_URL and no \(settings.credentials): a first run would serve \(Settings.defaultRoot)")
            if FileManager.default.fileExists(atPath: Settings.defaultRoot) {
                _ = try await settings.openStorage(creatingDefaultRoot: false)
            }
        } else {
            let fileSystem = try await settings.openStorage(creatingDefaultRoot: false)
            _ = try await settings.loadUsers(in: fileSystem)
            let entries = try? CredentialsFile.load(
                path: settings.credentials,
                secrets: settings.plainPasswords ? .password : .md5Digest
            )
            notes.append("\(settings.credentials): \(entries?.count ?? 0) user(s), every home present")
        }
        do {
            _ = try SocketAddress.makeAddressResolvingHost(
                settings.configuration.host,
                port: settings.configuration.port
            )
        } catch {
            throw StartupError(
                "cannot listen on '\(settings.configuration.host)': not an address or a known host name"
            )
        }
        var text = "fstpyd: the configuration is valid"
        if let file = settings.configFile { text += " (configuration file: \(file))" }
        text += "\n"
        let width = settings.effective.map(\.key.name.count).max() ?? 0
        for setting in settings.effective {
            let padding = String(repeating: " ", count: width - setting.key.name.count)
            text += "\(setting.key.name)\(padding) = \(setting.text)  [\(setting.source)]\n"
        }
        for note in notes { text += "# \(note)\n" }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
