/// Failed logins per client address, and the bans they lead to, as a value: the caller supplies the time, so the
/// rules are tested without a clock. ``LoginBans`` shares one table between connections.
///
/// An address is banned when `maximumFailures` failures fall within `window`; the ban lasts `duration` and then
/// expires by itself (the failures that led to it are forgotten with it). The table holds at most
/// `maximumTrackedAddresses` addresses: when full, the entries idle the longest are forgotten first, bans last.
package struct LoginBanTable: Sendable {
    package typealias Instant = ContinuousClock.Instant
    package typealias Policy = FTPService.Configuration.LoginBan

    private struct Entry {
        /// The most recent failures, oldest first; never more than `maximumFailures`.
        var failures: [Instant] = []
        var bannedUntil: Instant?
        var lastSeen: Instant
    }

    package let policy: Policy
    private var entries: [String: Entry] = [:]

    package init(policy: Policy) {
        self.policy = policy
    }

    /// Addresses remembered now.
    package var count: Int { self.entries.count }

    /// When the ban on `address` ends, or nil when it is not banned at `now`. An expired ban is forgotten here.
    package mutating func bannedUntil(_ address: String, now: Instant) -> Instant? {
        guard let entry = self.entries[address], let until = entry.bannedUntil else { return nil }
        if until > now { return until }
        self.entries[address] = nil
        return nil
    }

    /// Records a failed login from `address`; returns the end of the ban when this failure starts one.
    @discardableResult
    package mutating func recordFailure(_ address: String, now: Instant) -> Instant? {
        guard self.policy.maximumFailures > 0 else { return nil }
        if self.entries[address] == nil {
            self.makeRoom(now: now)
        }
        var entry = self.entries[address] ?? Entry(lastSeen: now)
        entry.lastSeen = now
        if let until = entry.bannedUntil, until > now {
            // Already banned (a session that was open before the ban): the ban stands as it is.
            self.entries[address] = entry
            return nil
        }
        entry.bannedUntil = nil
        let windowStart = now - self.policy.window
        entry.failures.removeAll { $0 <= windowStart }
        entry.failures.append(now)
        if entry.failures.count > self.policy.maximumFailures {
            entry.failures.removeFirst(entry.failures.count - self.policy.maximumFailures)
        }
        var started: Instant?
        if entry.failures.count >= self.policy.maximumFailures {
            let until = now + self.policy.duration
            entry.bannedUntil = until
            entry.failures = []
            started = until
        }
        self.entries[address] = entry
        return started
    }

    /// Frees at least one slot when the table is full: first what has expired, then the entries idle the longest
    /// (a tenth of the table at once, so that a flood of new addresses does not pay a sort per failure).
    private mutating func makeRoom(now: Instant) {
        let limit = max(1, self.policy.maximumTrackedAddresses)
        guard self.entries.count >= limit else { return }
        let windowStart = now - self.policy.window
        self.entries = self.entries.filter { _, entry in
            if let until = entry.bannedUntil { return until > now }
            return entry.failures.contains { $0 > windowStart }
        }
        guard self.entries.count >= limit else { return }
        let victims = self.entries
            .sorted { a, b in
                let aBanned = a.value.bannedUntil != nil
                let bBanned = b.value.bannedUntil != nil
                if aBanned != bBanned { return !aBanned }
                return a.value.lastSeen < b.value.lastSeen
            }
            .prefix(max(1, limit / 10))
        for (address, _) in victims {
            self.entries[address] = nil
        }
    }
}
