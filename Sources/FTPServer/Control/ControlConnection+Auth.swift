import FTPProtocol
import Logging
import VirtualFS

extension ControlConnection {
    /// Checks credentials; returns false when the connection must close.
    ///
    /// A banned address gets 421 before its credentials are looked at. A failure pauses before the reply, counted
    /// from the start of the attempt, so that a wrong user and a wrong password take the same time; the pause
    /// doubles with each failure on the connection (``FTPService/Configuration/Timeouts/failedLoginDelay``), and
    /// each failure counts towards a ban of the address.
    func authenticate(user name: String, password: String) async -> Bool {
        let clock = ContinuousClock()
        let started = clock.now
        if let bans = self.context.loginBans, let remaining = bans.remainingBan(for: self.clientAddress) {
            self.logger.notice(
                "login refused: address banned",
                metadata: [
                    "ftp.user": "\(LogText.sanitized(name, limit: 64))", "ftp.ban.remaining": "\(remaining.logText)s",
                ]
            )
            await self.reply(FTPReply(421, "Too many failed logins from your address; try again later."))
            return false
        }
        if let user = await self.context.authorizer.authenticate(user: name, password: password),
            let fileSystem = await self.openHome(of: user)
        {
            self.fileSystem = fileSystem
            self.workingDirectory = "/"
            self.logger[metadataKey: "ftp.user"] = "\(user.name)"
            self.bandwidth = self.context.bandwidth.throttles(forUser: user.name)
            self.logger.info("login succeeded")
            self.events.loggedIn(user)
            await self.reply(self.session.loginSucceeded(user))
            return true
        }
        // The same pause and the same reply for a wrong user and a wrong password.
        let failures = self.session.failedLoginCount + 1
        let banned = self.context.loginBans?.recordFailure(from: self.clientAddress) ?? false
        self.logger.notice(
            "login failed",
            metadata: ["ftp.user": "\(LogText.sanitized(name, limit: 64))", "ftp.login.failures": "\(failures)"]
        )
        self.events.emit(.loginFailed, user: String(name.prefix(64)))
        let delay = self.configuration.timeouts.failedLoginDelay(afterFailures: failures)
        try? await Task.sleep(until: started + delay, clock: clock)
        if banned, let policy = self.context.loginBans?.policy {
            self.logger.warning(
                "address banned after repeated failed logins",
                metadata: [
                    "ftp.ban.failures": "\(policy.maximumFailures)",
                    "ftp.ban.window": "\(policy.window.logText)s",
                    "ftp.ban.duration": "\(policy.duration.logText)s",
                ]
            )
            await self.reply(FTPReply(421, "Too many failed logins from your address; try again later."))
            return false
        }
        switch self.session.loginFailed() {
        case .close(let reply):
            self.logger.notice("too many failed logins on one connection; closing it")
            await self.reply(reply)
            return false
        case .reply(let reply):
            await self.reply(reply)
        default:
            await self.reply(FTPReply(530, "Authentication failed."))
        }
        return true
    }

    /// The user's jailed file system, or nil when the home is not a directory (any more).
    private func openHome(of user: User) async -> (any VirtualFileSystem)? {
        let base = self.context.fileSystem
        do {
            guard try await base.info(user.home).isDirectory else { return nil }
        } catch {
            self.logger.error(
                "home directory is not available",
                metadata: ["ftp.user": "\(user.name)", "ftp.path": "\(user.home)", "ftp.error": "\(error)"]
            )
            return nil
        }
        return user.home == "/" ? base : SubFileSystem(base: base, root: user.home)
    }
}
