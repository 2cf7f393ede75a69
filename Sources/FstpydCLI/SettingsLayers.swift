import Configuration
import Foundation
import SystemPackage

/// Where the settings come from, highest precedence first: flags, `FSTPY_*` variables, the configuration file
/// (`--config` or `FSTPY_CONFIG`, JSON), then the defaults (in ``Settings``).
///
/// Each layer is a swift-configuration provider: the flags and the variables as in-memory providers keyed by the
/// setting's name, the file as a `FileProvider<JSONSnapshot>`. The merge asks the providers in turn rather than
/// through a `ConfigReader`, because a reader's optional getters answer a value of the wrong type with the default
/// (silently), and a daemon must instead refuse it in one line that names where it came from; asking each provider
/// also tells `--check-config` which layer each value came from. Every value is read as text and parsed by
/// ``Settings``, so a duration or a rate means the same on the command line, in a variable and in the file.
struct SettingsLayers: Sendable {
    /// Where one value came from.
    enum Source: Sendable, Equatable, CustomStringConvertible {
        case flag
        case environment(String)
        case file(String)
        case defaultValue

        var description: String {
            switch self {
            case .flag: "flag"
            case .environment(let variable): variable
            case .file(let path): path
            case .defaultValue: "default"
            }
        }

        /// How an error message names the setting from this source.
        func naming(_ key: SettingKey) -> String {
            switch self {
            case .flag: key.flag
            case .environment(let variable): variable
            case .file(let path): "\(path): \(key.name)"
            case .defaultValue: key.name
            }
        }
    }

    private var layers: [(provider: any ConfigProvider, source: Source)]
    /// The configuration file in use, if any.
    let configFile: String?

    /// - Parameters:
    ///   - flags: the flags given on the command line, as text.
    ///   - environment: the process environment (empty variables count as unset).
    ///   - configFile: `--config`'s value; `FSTPY_CONFIG` is used when nil.
    init(flags: [SettingKey: String], environment: [String: String], configFile: String?) async throws(StartupError) {
        func provider(_ name: String, _ values: [SettingKey: String]) -> InMemoryProvider {
            var contents: [AbsoluteConfigKey: ConfigValue] = [:]
            for (key, text) in values {
                contents[AbsoluteConfigKey([key.name])] = ConfigValue(.string(text), isSecret: key.isSecret)
            }
            return InMemoryProvider(name: name, values: contents)
        }
        var fromEnvironment: [SettingKey: String] = [:]
        for key in SettingKey.all {
            if let text = environment[key.variable], !text.isEmpty {
                fromEnvironment[key] = text
            }
        }
        self.layers = [(provider("flags", flags), .flag)]
        // One in-memory provider per variable keeps the variable's name for messages.
        for (key, text) in fromEnvironment {
            self.layers.append((provider(key.variable, [key: text]), .environment(key.variable)))
        }
        var path = configFile
        if path == nil, let variable = environment[SettingKey.configVariable], !variable.isEmpty {
            path = variable
        }
        self.configFile = path
        if let path {
            self.layers.append((try await Self.fileProvider(path), .file(path)))
        }
    }

    /// The value of `key` as text, and where it came from; nil when no layer sets it.
    func text(_ key: SettingKey) throws(StartupError) -> (text: String, source: Source)? {
        let configKey = AbsoluteConfigKey([key.name])
        for (provider, source) in self.layers {
            do {
                if let text = try Self.lookup(configKey, in: provider) {
                    return (text, source)
                }
            } catch {
                throw StartupError("\(source.naming(key)): \(error)")
            }
        }
        return nil
    }

    /// A value of any scalar type as text: the file may say `"port": 2121` or `"port": "2121"`.
    private static func lookup(_ key: AbsoluteConfigKey, in provider: any ConfigProvider) throws -> String? {
        for type in [ConfigType.string, .int, .double] {
            do {
                guard let value = try provider.value(forKey: key, type: type).value else { return nil }
                switch value.content {
                case .string(let text): return text
                case .int(let number): return String(number)
                case .double(let number): return String(number)
                case .bool(let flag): return String(flag)
                default: return nil
                }
            } catch {
                // The wrong type for this value: try the next one.
                continue
            }
        }
        throw LookupError(message: "must be a single value (a string or a number), not a list or an object")
    }

    private struct LookupError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    /// Reads the file, refusing what swift-configuration would silently ignore: keys that are not settings
    /// (typos), nested objects, a top level that is not an object.
    private static func fileProvider(_ path: String) async throws(StartupError) -> any ConfigProvider {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw StartupError("configuration file '\(path)' \(exists ? "cannot be read" : "not found")")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey].map { "\($0)" } ?? "\(error)"
            throw StartupError("configuration file '\(path)' is not valid JSON: \(detail)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw StartupError("configuration file '\(path)' must hold one JSON object of settings")
        }
        let known = Set(SettingKey.all.map(\.name))
        for name in dictionary.keys.sorted() where !known.contains(name) {
            let hint = name == "config" ? " (a configuration file cannot name another)" : ""
            throw StartupError("configuration file '\(path)': unknown setting '\(name)'\(hint)")
        }
        do {
            return try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
        } catch {
            throw StartupError("configuration file '\(path)': \(error)")
        }
    }
}
