import FTPProtocol
import Logging
import NIOCore

extension ControlConnection {
    /// PASV, EPSV, PORT and EPRT: prepare the next data connection.
    func setUpData(_ command: FTPCommand) async {
        await self.closeDataSetup()
        switch command {
        case .passive:
            await self.openPassive(extended: false)
        case .extendedPassive(let argument):
            if case .networkProtocol(let number) = argument, number != self.controlNetworkProtocol {
                await self.reply(FTPReply(522, "Network protocol not supported, use (\(self.controlNetworkProtocol))."))
                return
            }
            await self.openPassive(extended: true)
        case .port(let target), .extendedPort(let target):
            do {
                try ActiveConnector.validate(target, controlPeer: self.channel.remoteAddress)
            } catch .foreignAddress {
                self.logger.warning(
                    "refused PORT/EPRT to another address",
                    metadata: ["ftp.data.target": "\(target.host)"]
                )
                await self.reply(FTPReply(501, "Rejected data connection to a foreign address."))
                return
            } catch {
                await self.reply(FTPReply(501, "Rejected data connection to a privileged port."))
                return
            }
            self.dataSetup = .active(target)
            await self.reply(FTPReply(200, "Active data connection target accepted."))
        default:
            await self.reply(FTPReply(503, "Bad sequence of commands."))
        }
    }

    /// 1 for IPv4, 2 for IPv6 (RFC 2428's numbers), for the control connection as the client sees it.
    var controlNetworkProtocol: Int {
        guard let local = self.channel.localAddress?.normalizedIPAddress else { return 1 }
        return local.contains(":") ? 2 : 1
    }

    private func openPassive(extended: Bool) async {
        guard let localIP = self.channel.localAddress?.normalizedIPAddress else {
            await self.reply(FTPReply(425, "Can't open passive connection."))
            return
        }
        // A PASV reply can only carry IPv4: an IPv6 client must use EPSV (RFC 2428 §3).
        if !extended && localIP.contains(":") && self.configuration.passive.masqueradeAddress == nil {
            await self.reply(FTPReply(425, "PASV is IPv4 only; use EPSV."))
            return
        }
        let listener: PassiveListener
        do {
            listener = try await PassiveListener.bind(
                host: localIP,
                ports: self.configuration.passive.ports,
                allowedAddress: self.channel.remoteAddress,
                setup: self.dataChannelSetup,
                // The control connection's event loop, for the listener and the data connection it accepts: a
                // session's commands and transfers then wake one thread rather than two (measured with 200 sessions at
                // once: about a tenth less server CPU; 1 GiB transfers unchanged).
                eventLoop: self.channel.eventLoop,
                logger: self.logger
            )
        } catch {
            self.logger.error("could not open a passive listener", metadata: ["ftp.error": "\(error)"])
            await self.reply(FTPReply(425, "Can't open passive connection."))
            return
        }
        self.dataSetup = .passive(listener, protected: self.session.dataProtection == .private)
        if extended {
            await self.reply(FTPReply(229, "Entering Extended Passive Mode (|||\(listener.port)|)."))
        } else {
            let host = self.configuration.passive.masqueradeAddress ?? localIP
            guard let argument = HostPort(host: host, port: listener.port).passiveReplyArgument else {
                await listener.close()
                self.dataSetup = .none
                await self.reply(FTPReply(425, "Can't announce this address in a PASV reply; use EPSV."))
                return
            }
            await self.reply(FTPReply(227, "Entering Passive Mode (\(argument))."))
        }
    }

    /// The data connection for a transfer command, made as PASV/EPSV/PORT/EPRT prepared. Replies 425 and returns nil
    /// when there is none. The preparation is used up either way.
    ///
    /// The connection is registered as the running transfer at once, before the 150 reply: a client may send ABOR as
    /// soon as it reads the 150, and the channel handler must see a transfer to stop by then. Every caller runs the
    /// transfer (``runSendingTransfer(_:on:_:)`` or ``runReceivingTransfer(_:on:_:)``) next, which ends the
    /// registration.
    func openDataConnection() async -> DataConnection? {
        guard let data = await self.connectData() else { return nil }
        self.transfers.begin("data connection", channel: data.channel)
        return data
    }

    private func connectData() async -> DataConnection? {
        if let refusal = self.session.dataProtectionRefusal {
            await self.closeDataSetup()
            await self.reply(refusal)
            return nil
        }
        let setup = self.dataSetup
        self.dataSetup = .none
        let timeout = self.configuration.timeouts.dataConnection
        do {
            switch setup {
            case .none:
                await self.reply(FTPReply(425, "Use PORT, PASV, EPRT or EPSV first."))
                return nil
            case .passive(let listener, let protected) where protected != (self.session.dataProtection == .private):
                // The listener was set up for the PROT level in force at PASV time.
                await listener.close()
                await self.reply(FTPReply(425, "PROT changed since PASV/EPSV: send PASV or EPSV again."))
                return nil
            case .passive(let listener, _):
                return try await listener.accept(timeout: timeout)
            case .active(let target):
                return try await ActiveConnector.connect(
                    to: target,
                    from: self.channel.localAddress,
                    timeout: timeout,
                    setup: self.dataChannelSetup,
                    group: self.channel.eventLoop  // as for passive connections
                )
            }
        } catch {
            self.logger.info("data connection failed", metadata: ["ftp.error": "\(error)"])
            await self.reply(FTPReply(425, "Can't open data connection."))
            return nil
        }
    }

    /// Drops a prepared but unused data connection.
    func closeDataSetup() async {
        if case .passive(let listener, _) = self.dataSetup {
            await listener.close()
        }
        self.dataSetup = .none
    }
}
