import FTPProtocol
import Logging
import NIOCore
import VirtualFS

extension ControlConnection {
    /// Runs a command the session machine let through (logged in, or allowed before login).
    func execute(_ command: FTPCommand, restartOffset: Int64) async {
        if let needed = command.requiredPermission, !self.permissions.contains(needed) {
            await self.reply(FTPReply(550, "Permission denied."))
            return
        }
        switch command {
        case .features: await self.reply(self.featuresReply())
        case .system: await self.reply(FTPReply(215, "UNIX Type: L8"))
        case .noop: await self.reply(FTPReply(200, "NOOP command successful."))
        case .help(let verb): await self.reply(Self.helpReply(verb))
        case .allocate: await self.reply(FTPReply(202, "No storage allocation necessary."))
        case .account: await self.reply(FTPReply(202, "ACCT command superfluous."))
        case .structure(let code):
            await self.reply(
                code == "F"
                    ? FTPReply(200, "File transfer structure set to: F.")
                    : FTPReply(504, "Unsupported structure: only F.")
            )
        case .mode(let code):
            await self.reply(
                code == "S" ? FTPReply(200, "Transfer mode set to: S.") : FTPReply(504, "Unsupported mode: only S.")
            )
        case .options(let name, let arguments):
            await self.reply(Self.optionsReply(name, arguments))
        case .status(nil): await self.reply(self.statusReply())
        case .site(let site): await self.site(site)
        case .passive, .extendedPassive, .port, .extendedPort: await self.setUpData(command)
        case .retrieve(let path): await self.retrieve(path, from: restartOffset)
        case .store(let path): await self.store(path, mode: restartOffset > 0 ? .resume(at: restartOffset) : .replace)
        case .append(let path): await self.store(path, mode: .append)
        case .storeUnique(let base): await self.storeUnique(base)
        case .list(let path): await self.list(path, format: .long)
        case .nameList(let path): await self.list(path, format: .names)
        case .machineListDirectory(let path): await self.list(path, format: .machine)
        case .status(let path?): await self.statusListing(path)
        case .machineListSingle(let path): await self.machineListSingle(path)
        case .printDirectory:
            await self.reply(FTPReply(257, "\(FTPReply.quoted(self.workingDirectory)) is the current directory."))
        case .changeDirectory(let path): await self.changeDirectory(path)
        case .changeToParentDirectory: await self.changeDirectory("..")
        case .makeDirectory(let path): await self.makeDirectory(path)
        case .removeDirectory(let path): await self.removeDirectory(path)
        case .delete(let path): await self.delete(path)
        case .renameFrom(let path): await self.renameFrom(path)
        case .size(let path): await self.size(path)
        case .modificationTime(let path): await self.modificationTime(path)
        case .setModificationTime(let seconds, let path): await self.setModificationTime(path, seconds: seconds)
        case .user, .pass, .quit, .reinitialize, .type, .restart, .renameTo, .abort, .authenticate,
            .protectionBufferSize, .protectionLevel, .clearCommandChannel:
            // The session machine answers these itself; reaching here would be a bug, answered safely.
            await self.reply(FTPReply(503, "Bad sequence of commands."))
        }
    }

    private func featuresReply() -> FTPReply {
        // RFC 2389 §3.2: each feature on its own line, indented by one space.
        var features = [
            "EPRT", "EPSV", "MDTM", "MFMT", self.session.facts.featureLine(), "REST STREAM", "SIZE", "TVFS", "UTF8",
        ]
        if self.session.tlsPolicy.offered {
            // RFC 4217 §6: AUTH TLS, PBSZ and PROT are announced with FEAT.
            features = ["AUTH TLS", "PBSZ", "PROT"] + features
        }
        return FTPReply(211, lines: ["Features supported:"] + features + ["End"])
    }

    private static func helpReply(_ verb: String?) -> FTPReply {
        if let verb {
            guard let text = FTPCommand.syntaxHelp(for: verb) else {
                return FTPReply(501, "Unrecognized command.")
            }
            return FTPReply(214, "Syntax: " + text)
        }
        var lines = ["The following commands are recognized:"]
        let verbs = FTPCommand.implementedVerbs
        stride(from: 0, to: verbs.count, by: 8).forEach { start in
            lines.append(verbs[start..<min(start + 8, verbs.count)].map { $0.padding(to: 5) }.joined(separator: " "))
        }
        lines.append("Help command successful.")
        return FTPReply(214, lines: lines)
    }

    private static func optionsReply(_ name: String, _ arguments: String?) -> FTPReply {
        switch (name, arguments?.uppercased()) {
        case ("UTF8", "ON"), ("UTF-8", "ON"), ("UTF8", nil):
            FTPReply(200, "Always in UTF8 mode.")
        case ("UTF8", _):
            FTPReply(501, "Only OPTS UTF8 ON is supported.")
        default:
            FTPReply(501, "Invalid OPTS argument.")
        }
    }

    private func statusReply() -> FTPReply {
        var lines = ["FsTPy FTP server status:"]
        lines.append("Connected to: \(self.channel.remoteAddress?.normalizedIPAddress ?? "?")")
        if let user = self.session.user {
            lines.append("Logged in as: \(user.name)")
        } else {
            lines.append("Waiting for login.")
        }
        lines.append("TYPE: \(self.session.transferType == .ascii ? "ASCII" : "Binary"); STRUcture: File; MODE: Stream")
        if self.session.controlProtected {
            lines.append(
                "Control connection: TLS; data connections: \(self.session.dataProtection == .private ? "TLS (PROT P)" : "clear (PROT C)")"
            )
        } else {
            lines.append("Control connection: clear")
        }
        switch self.dataSetup {
        case .none: lines.append("Data connection: none")
        case .passive(let listener, _): lines.append("Data connection: passive, listening on port \(listener.port)")
        case .active(let target): lines.append("Data connection: active, to \(target.host) port \(target.port)")
        }
        lines.append("End of status.")
        return FTPReply(211, lines: lines)
    }

    private func site(_ site: SiteCommand) async {
        switch site {
        case .help:
            await self.reply(
                FTPReply(
                    214,
                    lines: [
                        "The following SITE commands are recognized:", "CHMOD HELP", "Help SITE command successful.",
                    ]
                )
            )
        case .unknown(let word):
            await self.reply(FTPReply(500, "Unknown SITE command \"\(word.prefix(16))\"."))
        case .chmod(let mode, let argument):
            guard let (fileSystem, path) = await self.fileSystemAndPath(argument) else { return }
            do {
                try await fileSystem.setMode(path, to: mode)
                await self.reply(FTPReply(200, "SITE CHMOD successful."))
            } catch {
                await self.fail(error, path: path, operation: "chmod")
            }
        }
    }

    /// The user's file system and a resolved path, or nil after replying (not logged in, or a bad path).
    func fileSystemAndPath(_ argument: String) async -> (any VirtualFileSystem, String)? {
        guard let fileSystem = self.fileSystem else {
            await self.reply(FTPReply(530, "Log in with USER and PASS first."))
            return nil
        }
        guard let path = self.resolve(argument) else {
            await self.reply(FTPReply(501, "Invalid path."))
            return nil
        }
        return (fileSystem, path)
    }

    /// Replies to a storage failure and logs it with its detail.
    func fail(_ error: any Error, path: String, operation: String) async {
        let reply = FTPReply(error, path: path)
        self.context.events.metrics.storageFailed(error)
        self.logger.info(
            "\(operation) failed",
            metadata: ["ftp.path": "\(path)", "ftp.error": "\(error)", "ftp.reply": "\(reply.code)"]
        )
        await self.reply(reply)
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
