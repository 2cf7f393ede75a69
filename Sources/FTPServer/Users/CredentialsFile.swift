import Foundation
import VirtualFS

/// The original FsTPy's credentials file: one user a line,
/// `user;md5-of-password;home;permissions[;login message[;logout message]]`.
///
/// ```
/// # user;md5 of the password;home;permissions;login message;logout message
/// alice;827ccb0eea8a706c4c34a16891f84e7b;/alice;elradfmwMT;Welcome Alice!;Bye Alice
/// guest;827ccb0eea8a706c4c34a16891f84e7b;/public;elr
/// ```
///
/// Blank lines and lines starting with `#` are ignored; fields are trimmed of surrounding whitespace; a message
/// cannot contain `;`. A UTF-8 byte order mark and CRLF line endings are accepted. Homes are normalized: `alice`,
/// `/alice` and `/alice/` are all `/alice`. Every problem is a ``CredentialsError`` naming the file and line.
public enum CredentialsFile {
    /// What the second field holds, which decides how it is checked.
    public enum SecretFormat: Sendable, Hashable {
        /// A plain password: any non-empty text (``PlainPasswordAuthorizer``).
        case password
        /// The MD5 digest of the password: 32 hex digits (``MD5Authorizer``).
        case md5Digest
    }

    /// The fields a line has at least (user, secret, home, permissions) and at most (plus two messages).
    private static let fieldCounts = 4...6

    /// The entries of a credentials file, in file order.
    ///
    /// - Parameters:
    ///   - contents: The file's text.
    ///   - source: The name errors give the file.
    ///   - secrets: How to check the second field; `.password` accepts any non-empty text.
    public static func parse(
        _ contents: String,
        source: String = "credentials.txt",
        secrets: SecretFormat = .password
    ) throws(CredentialsError) -> [CredentialsEntry] {
        try self.parseLines(contents, source: source, secrets: secrets).map(\.entry)
    }

    /// The entries of a credentials file, after checking that every home is a directory of `fileSystem`.
    public static func parse(
        _ contents: String,
        source: String = "credentials.txt",
        secrets: SecretFormat = .password,
        checkingHomesIn fileSystem: any VirtualFileSystem
    ) async throws(CredentialsError) -> [CredentialsEntry] {
        let lines = try self.parseLines(contents, source: source, secrets: secrets)
        try await self.checkHomes(of: lines, source: source, in: fileSystem)
        return lines.map(\.entry)
    }

    /// Reads and parses the credentials file at `path`; errors name the file by `path`.
    public static func load(path: String, secrets: SecretFormat = .password) throws(CredentialsError)
        -> [CredentialsEntry]
    {
        try self.parse(self.read(path: path), source: path, secrets: secrets)
    }

    /// Reads and parses the credentials file at `path`, after checking that every home is a directory of
    /// `fileSystem`.
    public static func load(
        path: String,
        secrets: SecretFormat = .password,
        checkingHomesIn fileSystem: any VirtualFileSystem
    ) async throws(CredentialsError) -> [CredentialsEntry] {
        try await self.parse(self.read(path: path), source: path, secrets: secrets, checkingHomesIn: fileSystem)
    }

    /// A home as written in the file, made absolute and normalized: `alice`, `/alice/` and `//alice` are `/alice`,
    /// `.` components are dropped. Nil for an empty home, a `..` component or a control character.
    public static func normalizedHome(_ home: String) -> String? {
        guard !home.isEmpty, !home.unicodeScalars.contains(where: DisplayText.isControl) else { return nil }
        var components: [Substring] = []
        for component in home.split(separator: "/") where component != "." {
            guard component != ".." else { return nil }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    // MARK: - Reading

    private static func read(path: String) throws(CredentialsError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CredentialsError(source: path, message: "credentials file not found")
        }
        guard !isDirectory.boolValue else {
            throw CredentialsError(source: path, message: "is a directory, not a credentials file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialsError(source: path, message: "credentials file cannot be read (check its permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CredentialsError(source: path, message: "credentials file is not UTF-8 text")
        }
        return text
    }

    // MARK: - Parsing

    /// One parsed entry and the line it came from.
    private struct Line {
        var number: Int
        var entry: CredentialsEntry
    }

    /// What is wrong with one line, before the file and line number are added.
    private struct LineProblem: Error {
        var message: String
    }

    private static func parseLines(
        _ contents: String,
        source: String,
        secrets: SecretFormat
    ) throws(CredentialsError) -> [Line] {
        // Split on scalars, not Characters: "\r\n" is a single Character, which would hide the "\n".
        var scalars = Substring(contents).unicodeScalars
        if scalars.first == "\u{FEFF}" {
            scalars.removeFirst()
        }
        var lines: [Line] = []
        var firstLineOfUser: [String: Int] = [:]
        for (index, rawLine) in scalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var line = Substring(rawLine)
            if line.unicodeScalars.last == "\r" {
                line.unicodeScalars.removeLast()
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") {
                continue
            }
            do throws(LineProblem) {
                let entry = try self.parseEntry(line, secrets: secrets)
                if let first = firstLineOfUser[entry.user] {
                    throw LineProblem(
                        message: "duplicate user '\(DisplayText.escaped(entry.user))' (first defined on line \(first))"
                    )
                }
                firstLineOfUser[entry.user] = number
                lines.append(Line(number: number, entry: entry))
            } catch {
                throw CredentialsError(source: source, line: number, message: error.message)
            }
        }
        return lines
    }

    private static func parseEntry(_ line: Substring, secrets: SecretFormat) throws(LineProblem) -> CredentialsEntry {
        let fields = line.split(separator: ";", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard fields.count >= self.fieldCounts.lowerBound else {
            throw LineProblem(
                message: "expected at least 4 fields (user;md5-of-password;home;permissions), found \(fields.count)"
            )
        }
        guard fields.count <= self.fieldCounts.upperBound else {
            throw LineProblem(
                message: "expected at most 6 fields (a message cannot contain ';'), found \(fields.count)"
            )
        }

        let user = fields[0]
        guard !user.isEmpty else {
            throw LineProblem(message: "empty user name")
        }
        guard !user.unicodeScalars.contains(where: { DisplayText.isControl($0) || $0.properties.isWhitespace }) else {
            throw LineProblem(
                message: "user name '\(DisplayText.escaped(user))' contains whitespace or control characters"
            )
        }
        let shownUser = DisplayText.escaped(user)

        // Never quote the secret: it may be a plain password written where a digest belongs.
        let secret = fields[1]
        switch secrets {
        case .password:
            guard !secret.isEmpty else {
                throw LineProblem(message: "empty password of user '\(shownUser)'")
            }
        case .md5Digest:
            guard secret.utf8.count == 32, ConstantTime.bytes(fromHex: secret) != nil else {
                throw LineProblem(
                    message: "password field of user '\(shownUser)' is not an MD5 digest (32 hex digits)"
                )
            }
        }

        guard let home = self.normalizedHome(fields[2]) else {
            throw LineProblem(
                message: fields[2].isEmpty
                    ? "empty home of user '\(shownUser)'"
                    : "home '\(DisplayText.escaped(fields[2]))' of user '\(shownUser)' is not a valid path "
                        + "(no '..' components, no control characters)"
            )
        }

        let permissions: Permissions
        do {
            permissions = try Permissions(letters: fields[3])
        } catch {
            throw LineProblem(message: error.description)
        }

        return CredentialsEntry(
            user: user,
            secret: secret,
            home: home,
            permissions: permissions,
            loginMessage: try self.message(fields, at: 4, name: "login message"),
            logoutMessage: try self.message(fields, at: 5, name: "logout message")
        )
    }

    /// An optional message field: nil when absent or empty.
    private static func message(_ fields: [String], at index: Int, name: String) throws(LineProblem) -> String? {
        guard index < fields.count, !fields[index].isEmpty else { return nil }
        // A CR or LF in a message would end the reply line early and let the file forge replies.
        guard !fields[index].unicodeScalars.contains(where: { DisplayText.isControl($0) && $0 != "\t" }) else {
            throw LineProblem(message: "\(name) contains control characters")
        }
        return fields[index]
    }

    // MARK: - Homes

    private static func checkHomes(
        of lines: [Line],
        source: String,
        in fileSystem: any VirtualFileSystem
    ) async throws(CredentialsError) {
        var checked: Set<String> = []
        for line in lines where !checked.contains(line.entry.home) {
            let home = line.entry.home
            let what = "home '\(DisplayText.escaped(home))' of user '\(DisplayText.escaped(line.entry.user))'"
            let info: FileInfo
            do {
                info = try await fileSystem.info(home)
            } catch let error as FileSystemError where error.code == .notFound {
                throw CredentialsError(
                    source: source,
                    line: line.number,
                    message: "\(what) does not exist in the served storage"
                )
            } catch {
                throw CredentialsError(
                    source: source,
                    line: line.number,
                    message: "\(what) cannot be checked in the served storage: \(error)"
                )
            }
            guard info.isDirectory else {
                throw CredentialsError(
                    source: source,
                    line: line.number,
                    message: "\(what) is not a directory in the served storage"
                )
            }
            checked.insert(home)
        }
    }
}
