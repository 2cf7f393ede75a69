/// A logged-in user: where they live in the served storage and what they may do there.
public struct User: Sendable, Hashable {
    /// The login name.
    public var name: String
    /// The user's home: a directory of the served storage, absolute and normalized (`/`, `/alice`, `/data/bob`).
    /// The session is jailed there: the client sees it as `/`.
    public var home: String
    /// What the user may do.
    public var permissions: Permissions
    /// Sent with the 230 reply after a successful login, when set.
    public var loginMessage: String?
    /// Sent with the 221 reply on QUIT, when set.
    public var logoutMessage: String?

    /// A user; `home` must already be absolute and normalized (``CredentialsFile`` normalizes what it reads).
    public init(
        name: String,
        home: String,
        permissions: Permissions,
        loginMessage: String? = nil,
        logoutMessage: String? = nil
    ) {
        self.name = name
        self.home = home
        self.permissions = permissions
        self.loginMessage = loginMessage
        self.logoutMessage = logoutMessage
    }
}
