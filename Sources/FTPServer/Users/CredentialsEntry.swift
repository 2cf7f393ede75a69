/// One line of a credentials file: a user, their secret, home, permissions and messages.
///
/// Its descriptions (`description`, `debugDescription`, `dump`) never show the secret.
public struct CredentialsEntry: Sendable, Hashable {
    /// The login name.
    public var user: String
    /// The MD5 digest of the password as 32 hex digits (``MD5Authorizer``), or the password itself
    /// (``PlainPasswordAuthorizer``).
    public var secret: String
    /// The user's home in the served storage, absolute and normalized (`/`, `/alice`).
    public var home: String
    /// What the user may do.
    public var permissions: Permissions
    /// Sent with the 230 reply after login, when set.
    public var loginMessage: String?
    /// Sent with the 221 reply on QUIT, when set.
    public var logoutMessage: String?

    /// An entry; `home` must already be absolute and normalized (``CredentialsFile`` normalizes what it reads).
    public init(
        user: String,
        secret: String,
        home: String,
        permissions: Permissions,
        loginMessage: String? = nil,
        logoutMessage: String? = nil
    ) {
        self.user = user
        self.secret = secret
        self.home = home
        self.permissions = permissions
        self.loginMessage = loginMessage
        self.logoutMessage = logoutMessage
    }

    /// The user this entry logs in as.
    var account: User {
        User(
            name: self.user,
            home: self.home,
            permissions: self.permissions,
            loginMessage: self.loginMessage,
            logoutMessage: self.logoutMessage
        )
    }
}

extension CredentialsEntry: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The entry with its secret redacted.
    public var description: String {
        var text = "CredentialsEntry(user: \(String(reflecting: self.user)), secret: <redacted>, "
        text += "home: \(String(reflecting: self.home)), permissions: \"\(self.permissions.letters)\""
        if let loginMessage = self.loginMessage { text += ", loginMessage: \(String(reflecting: loginMessage))" }
        if let logoutMessage = self.logoutMessage { text += ", logoutMessage: \(String(reflecting: logoutMessage))" }
        return text + ")"
    }

    /// The entry with its secret redacted.
    public var debugDescription: String { self.description }

    /// The entry with its secret redacted, so that `dump(_:)` and test failure messages do not show it either.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "user": self.user,
                "secret": "<redacted>",
                "home": self.home,
                "permissions": self.permissions,
                "loginMessage": self.loginMessage as Any,
                "logoutMessage": self.logoutMessage as Any,
            ],
            displayStyle: .struct
        )
    }
}
