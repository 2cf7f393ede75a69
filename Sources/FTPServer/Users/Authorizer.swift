/// Decides who may log in, and as which ``User``.
///
/// The server asks once per PASS. Implementations: ``MD5Authorizer`` and ``PlainPasswordAuthorizer`` (both from a
/// ``CredentialsFile``); others (crypt(3) hashes, a database) plug in the same way.
public protocol Authorizer: Sendable {
    /// The user for these credentials, or nil.
    ///
    /// Must not reveal which of user or password was wrong, in result or in timing: an unknown user costs the same
    /// work as a known user with a wrong password.
    func authenticate(user: String, password: String) async -> User?
}
