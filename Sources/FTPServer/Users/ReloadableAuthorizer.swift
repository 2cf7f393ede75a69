import Synchronization

/// An authorizer whose users can be loaded again while the server runs (fstpyd does it on SIGHUP).
///
/// New logins use the users of the last successful load; sessions already logged in keep the user they logged in
/// as. A load that fails leaves the current users in place.
///
/// ```swift
/// let authorizer = try await ReloadableAuthorizer {
///     try await MD5Authorizer(fileSystem: fileSystem, credentialsFile: "credentials.txt")
/// }
/// // later, e.g. on SIGHUP:
/// try await authorizer.reload()
/// ```
public final class ReloadableAuthorizer: Authorizer {
    private let current: Mutex<any Authorizer>
    private let load: @Sendable () async throws -> any Authorizer

    /// Starts with `initial`; `load` builds the next set of users on each ``reload()``.
    public init(initial: any Authorizer, load: @escaping @Sendable () async throws -> any Authorizer) {
        self.current = Mutex(initial)
        self.load = load
    }

    /// Loads the first set of users with `load` (throwing what it throws).
    public convenience init(load: @escaping @Sendable () async throws -> any Authorizer) async throws {
        self.init(initial: try await load(), load: load)
    }

    public func authenticate(user: String, password: String) async -> User? {
        let authorizer = self.current.withLock { $0 }
        return await authorizer.authenticate(user: user, password: password)
    }

    /// Loads the users again and uses them for new logins; on failure, keeps the current ones and throws.
    public func reload() async throws {
        let next = try await self.load()
        self.current.withLock { $0 = next }
    }
}
