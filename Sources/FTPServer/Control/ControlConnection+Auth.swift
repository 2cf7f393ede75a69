import FTPProtocol
import Logging
import VirtualFS

extension ControlConnection {
    /// Checks credentials; returns false when the connection must close.
    func authenticate(user name: String, password: String) async -> Bool {
        let clock = ContinuousClock()
        let started = clock.now
        if let user = await self.context.authorizer.authenticate(user: name, password: password),
            let fileSystem = await self.openHome(of: user)
        {
            self.fileSystem = fileSystem
            self.workingDirectory = "/"
            self.logger[metadataKey: "ftp.user"] = "\(user.name)"
            self.logger.info("login succeeded")
            self.events.loggedIn(user)
            await self.reply(self.session.loginSucceeded(user))
            return true
        }
        // The same pause and the same reply for a wrong user and a wrong password.
        self.logger.notice("login failed", metadata: ["ftp.user": "\(name.prefix(64))"])
        self.events.emit(.loginFailed, user: String(name.prefix(64)))
        try? await Task.sleep(until: started + self.configuration.timeouts.failedLoginDelay, clock: clock)
        switch self.session.loginFailed() {
        case .close(let reply):
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
