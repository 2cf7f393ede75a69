import FTPProtocol
import Logging
import NIOCore
import NIOSSL

extension ControlConnection {
    /// AUTH TLS accepted by the session machine: a context for this session, then the 234 and the upgrade, done by
    /// the codec on the event loop. Returns false when the connection must close.
    func startTLS(_ reply: FTPReply) async -> Bool {
        guard let store = self.configuration.tls.identity else {
            // The machine only accepts AUTH when an identity is configured.
            try? await self.outbound.refuseAuth(FTPReply(502, "TLS is not available on this server."))
            return true
        }
        let context: NIOSSLContext
        do {
            context = try store.makeSessionContext()
        } catch {
            self.logger.error("cannot make a TLS context", metadata: ["ftp.error": "\(error)"])
            try? await self.outbound.write(FTPReply(431, "Unable to start TLS now."))
            return false
        }
        do {
            try await self.outbound.startTLS(reply, context: context)
        } catch {
            self.logger.info("AUTH TLS failed", metadata: ["ftp.error": "\(error)"])
            return false
        }
        self.tlsContext = context
        self.logger.debug("control connection upgraded to TLS")
        return true
    }

    /// How the next data connection is set up: TLS on this session's context under PROT P.
    var dataChannelSetup: DataChannelSetup {
        let limits = self.configuration.limits
        guard self.session.dataProtection == .private, let context = self.tlsContext else {
            return DataChannelSetup(chunkSize: limits.transferChunkSize, receiveBuffer: limits.dataReceiveBuffer)
        }
        return DataChannelSetup(
            chunkSize: limits.transferChunkSize,
            tls: .init(
                context: context,
                requireSessionReuse: self.configuration.tls.requireSessionReuse,
                handshakeTimeout: TimeAmount(self.configuration.timeouts.dataConnection),
                logger: self.logger
            ),
            receiveBuffer: limits.dataReceiveBuffer
        )
    }
}
