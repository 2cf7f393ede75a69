import Crypto
import Foundation
import VirtualFS

/// Checks passwords against MD5 digests: the original FsTPy's authorizer.
///
/// Digests are compared in constant time, and an unknown user costs the same hash and comparison as a wrong
/// password, so neither the result nor the timing tells which one was wrong.
public struct MD5Authorizer: Authorizer {
    /// A user and the digest of their password; nil when the entry's secret is not 32 hex digits.
    private struct Account: Sendable {
        var user: User
        var digest: [UInt8]?
    }

    /// Compared with when the user is unknown, so that the work is the same as for a wrong password.
    private static let dummyDigest = [UInt8](repeating: 0, count: Insecure.MD5.byteCount)

    private let accounts: [String: Account]

    /// An authorizer for these entries, whose secrets are MD5 digests of passwords in hex (either case).
    ///
    /// An entry whose secret is not 32 hex digits never logs in; ``CredentialsFile`` refuses such a line when parsing
    /// with `secrets: .md5Digest`. When a user appears twice, the first entry counts.
    public init(entries: [CredentialsEntry]) {
        var accounts: [String: Account] = [:]
        for entry in entries where accounts[entry.user] == nil {
            let digest = ConstantTime.bytes(fromHex: entry.secret)
            accounts[entry.user] = Account(
                user: entry.account,
                digest: digest?.count == Insecure.MD5.byteCount ? digest : nil
            )
        }
        self.accounts = accounts
    }

    /// The user whose password has this MD5 digest, or nil.
    public func authenticate(user: String, password: String) async -> User? {
        let account = self.accounts[user]
        let matches = ConstantTime.equal(Self.digestBytes(of: password), account?.digest ?? Self.dummyDigest)
        guard matches, let account, account.digest != nil else { return nil }
        return account.user
    }

    /// The MD5 digest of `password` (its UTF-8 bytes) as 32 lower-case hex digits: what a credentials file holds.
    public static func digest(of password: String) -> String {
        ConstantTime.hex(self.digestBytes(of: password))
    }

    private static func digestBytes(of password: String) -> [UInt8] {
        Array(Insecure.MD5.hash(data: Data(password.utf8)))
    }
}

extension MD5Authorizer {
    /// The original's API: an authorizer built from a file system and a credentials file of MD5 digests.
    ///
    /// Checks that every line is valid, that every secret is 32 hex digits and that every home exists as a
    /// directory in `fileSystem`; throws a ``CredentialsError`` naming the file and line otherwise.
    public init(fileSystem: any VirtualFileSystem, credentialsFile path: String) async throws {
        let entries = try await CredentialsFile.load(path: path, secrets: .md5Digest, checkingHomesIn: fileSystem)
        self.init(entries: entries)
    }
}
