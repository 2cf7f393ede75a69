import FTPServer
import Synchronization
import Testing

@Suite struct ReloadableAuthorizerTests {
    struct LoadFailed: Error {}

    @Test func reloadReplacesTheUsersForNewLoginsAndAFailedLoadKeepsThem() async throws {
        // What the next load returns: a set of users, or a failure.
        let next = Mutex<[CredentialsEntry]?>([
            CredentialsEntry(user: "alice", secret: "a-pass", home: "/", permissions: .all)
        ])
        let authorizer = try await ReloadableAuthorizer {
            guard let entries = next.withLock({ $0 }) else { throw LoadFailed() }
            return PlainPasswordAuthorizer(entries: entries)
        }
        #expect(await authorizer.authenticate(user: "alice", password: "a-pass")?.name == "alice")
        #expect(await authorizer.authenticate(user: "bob", password: "b-pass") == nil)

        next.withLock {
            $0 = [
                CredentialsEntry(user: "alice", secret: "a-pass", home: "/", permissions: .all),
                CredentialsEntry(user: "bob", secret: "b-pass", home: "/", permissions: .readOnly),
            ]
        }
        try await authorizer.reload()
        #expect(await authorizer.authenticate(user: "bob", password: "b-pass")?.permissions == .readOnly)

        next.withLock { $0 = nil }
        await #expect(throws: LoadFailed.self) { try await authorizer.reload() }
        #expect(await authorizer.authenticate(user: "bob", password: "b-pass") != nil, "a failed load keeps the users")
    }
}
