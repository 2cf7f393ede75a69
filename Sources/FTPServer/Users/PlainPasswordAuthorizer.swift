import Crypto
import Foundation
import VirtualFS

/// Checks passwords stored in clear text: for tests, first runs and private setups.
///
/// Passwords are compared through their SHA-256 digests in constant time, so neither the length of the stored
/// password nor the place of the first difference shows in the timing; an unknown user costs the same work as a
/// wrong password.
public struct PlainPasswordAuthorizer: Authorizer {
    /// A user and the SHA-256 digest of their password; nil for an empty password, which never logs in.
    private struct Account: Sendable {
        var user: User
        var digest: [UInt8]?
    }

    /// Compared with when the user is unknown, so that the work is the same as for a wrong password.
    private static let dummyDigest = [UInt8](repeating: 0, count: SHA256.byteCount)

    private let accounts: [String: Account]

    /// An authorizer for these entries, whose secrets are the passwords themselves.
    ///
    /// An entry with an empty password never logs in. When a user appears twice, the first entry counts.
    public init(entries: [CredentialsEntry]) {
        var accounts: [String: Account] = [:]
        for entry in entries where accounts[entry.user] == nil {
            accounts[entry.user] = Account(
                user: entry.account,
                digest: entry.secret.isEmpty ? nil : Self.digest(of: entry.secret)
            )
        }
        self.accounts = accounts
    }

    /// The user with this password, or nil.
    public func authenticate(user: String, password: String) async -> User? {
        let account = self.accounts[user]
        let matches = ConstantTime.equal(Self.digest(of: password), account?.digest ?? Self.dummyDigest)
        guard matches, let account, account.digest != nil else { return nil }
        return account.user
    }

    private static func digest(of password: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(password.utf8)))
    }
}

extension PlainPasswordAuthorizer {
    /// An authorizer built from a file system and a credentials file of plain passwords.
    ///
    /// Checks that every line is valid and that every home exists as a directory in `fileSystem`; throws a
    /// ``CredentialsError`` naming the file and line otherwise.
    public init(fileSystem: any VirtualFileSystem, credentialsFile path: String) async throws {
        let entries = try await CredentialsFile.load(path: path, secrets: .password, checkingHomesIn: fileSystem)
        self.init(entries: entries)
    }
}
