import Synchronization

/// The server-wide ``LoginBanTable``, shared by every control connection.
package final class LoginBans: Sendable {
    private let table: Mutex<LoginBanTable>
    private let clock = ContinuousClock()

    package init(policy: FTPService.Configuration.LoginBan) {
        self.table = Mutex(LoginBanTable(policy: policy))
    }

    package var policy: FTPService.Configuration.LoginBan { self.table.withLock { $0.policy } }

    /// How long the ban on `address` still lasts, or nil when the address is not banned.
    package func remainingBan(for address: String) -> Duration? {
        let now = self.clock.now
        return self.table.withLock { $0.bannedUntil(address, now: now) }.map { $0 - now }
    }

    /// Records a failed login from `address`; returns true when this failure bans the address.
    package func recordFailure(from address: String) -> Bool {
        let now = self.clock.now
        return self.table.withLock { $0.recordFailure(address, now: now) } != nil
    }
}
