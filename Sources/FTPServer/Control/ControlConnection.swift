import FTPProtocol
import Foundation
import Logging
import NIOCore
import NIOSSL
import VirtualFS

/// What every control connection of one server shares.
package struct ServerContext: Sendable {
    package var configuration: FTPService.Configuration
    package var fileSystem: any VirtualFileSystem
    package var authorizer: any Authorizer
    package var group: any EventLoopGroup
    package var logger: Logger
    /// Failed logins per address and bans; nil when bans are off.
    package var loginBans: LoginBans?
    /// The bandwidth limiters.
    package var bandwidth: BandwidthLimits
    /// Events for the configured handlers, and metrics.
    package var events: EventDispatcher
}

/// One client's session: an async loop over its control connection.
///
/// One task per connection: it reads the commands one at a time (the async channel's small buffer and TCP hold back a
/// client that floods commands) and runs each, transfers included, in order; it owns all session state. While a
/// transfer runs, the channel's ``ControlIdleHandler`` answers ABOR (closing the data connection), STAT and NOOP on the
/// event loop, so an idle session costs no second task waiting on its socket.
///
/// `@unchecked Sendable`: the state is only ever touched by one task at a time. The session loop hands the connection
/// to a child task per command and waits for that task before it reads the next command.
package final class ControlConnection: @unchecked Sendable {
    package typealias ControlChannel = NIOAsyncChannel<ControlEvent, Never>

    let context: ServerContext
    let channel: any Channel
    let outbound: ReplyWriter
    let lifecycle: SessionLifecycle
    /// The client's IP address (normalized), recorded at the start: a closed channel no longer knows it.
    let clientAddress: String
    var logger: Logger
    var configuration: FTPService.Configuration { self.context.configuration }

    var session: SessionStateMachine
    /// The working directory, a resolved path inside the user's home.
    var workingDirectory = "/"
    /// The logged-in user's file system (rooted at their home).
    var fileSystem: (any VirtualFileSystem)?
    var dataSetup: DataSetup = .none
    let transfers: TransferControl
    /// The last transfer ended because of ABOR (so ABOR's own reply is 226).
    var lastTransferAborted = false
    /// Bytes moved by the last transfer, for its log line.
    var lastTransferBytes: Int64 = 0
    /// How long the last transfer took, for its log line.
    var lastTransferDuration: Duration = .zero
    /// The code of the last reply sent, for the command's log line.
    var lastReplyCode: Int?
    /// The bandwidth limits this session's transfers are held to (the user's, once logged in).
    var bandwidth: SessionBandwidth
    /// The TLS context of this session (from AUTH TLS, or from connect on the implicit port); its data connections use
    /// it too, so they can resume the control connection's TLS session.
    var tlsContext: NIOSSLContext?
    /// This session's events (ControlConnection+Events.swift).
    var events: SessionEvents

    /// How the next data connection is made.
    enum DataSetup {
        case none
        /// A passive listener, and whether it was set up for PROT P.
        case passive(PassiveListener, protected: Bool)
        case active(FTPProtocol.HostPort)
    }

    init(
        context: ServerContext,
        channel: any Channel,
        outbound: ReplyWriter,
        lifecycle: SessionLifecycle,
        implicitTLSContext: NIOSSLContext? = nil
    ) {
        self.context = context
        self.transfers = lifecycle.transfers
        self.lifecycle = lifecycle
        self.channel = channel
        self.outbound = outbound
        self.clientAddress = channel.remoteAddress?.normalizedIPAddress ?? "?"
        self.bandwidth = context.bandwidth.throttles(forUser: nil)
        let tls = context.configuration.tls
        self.session = SessionStateMachine(
            maximumLoginAttempts: context.configuration.limits.maximumLoginAttempts,
            tls: .init(
                offered: tls.identity != nil,
                requiredOnControl: tls.requiredOnControl,
                requiredOnData: tls.requiredOnData
            ),
            implicitTLS: implicitTLSContext != nil
        )
        self.tlsContext = implicitTLSContext
        self.events = SessionEvents(dispatcher: context.events, remoteAddress: channel.remoteAddress)
        self.logger = context.logger.with(client: channel)
    }

    /// Serves the connection until QUIT, a dropped client, or cancellation.
    package static func serve(
        _ asyncChannel: ControlChannel,
        lifecycle: SessionLifecycle,
        implicitTLSContext: NIOSSLContext?,
        context: ServerContext
    ) async {
        do {
            try await asyncChannel.executeThenClose { inbound, _ in
                let connection = ControlConnection(
                    context: context,
                    channel: asyncChannel.channel,
                    outbound: ReplyWriter(
                        channel: asyncChannel.channel,
                        timeout: context.configuration.timeouts.replyWrite,
                        logger: context.logger.with(client: asyncChannel.channel)
                    ),
                    lifecycle: lifecycle,
                    implicitTLSContext: implicitTLSContext
                )
                await connection.run(inbound: inbound)
            }
        } catch {
            context.logger.debug("control connection ended with an error", metadata: ["ftp.error": "\(error)"])
        }
    }

    func run(inbound: NIOAsyncChannelInboundStream<ControlEvent>) async {
        self.logger.info("session opened")
        self.events.emit(.connect, user: nil)
        await self.reply(FTPReply(220, self.configuration.banner))
        do {
            // One command at a time, in order. While a transfer runs, the channel's ControlIdleHandler answers ABOR,
            // STAT and NOOP on the event loop; other commands wait here, in the async channel's bounded buffer.
            for try await event in inbound {
                // A graceful shutdown closes an idle session itself (421), and lets a busy one finish its command.
                guard self.lifecycle.commandStarted() else { break }
                // Each command runs in a child task of its own. A task keeps the memory its deepest call needed
                // until it ends; run in the session's own task, one login or listing would leave kilobytes of
                // frames behind in every idle session.
                let goOn = await withTaskGroup(of: Bool.self) { commandGroup in
                    commandGroup.addTask { await self.handle(event) }
                    return await commandGroup.next() ?? false
                }
                guard goOn else { break }
                guard self.lifecycle.commandFinished() else {
                    await self.reply(SessionLifecycle.shutdownReply)
                    self.logger.info("session closed for shutdown after its last command")
                    break
                }
            }
        } catch {
            // The client went away or the channel failed: same as a close.
        }
        await self.closeDataSetup()
        self.logger.info("session closed", metadata: self.session.user.map { ["ftp.user": "\($0.name)"] } ?? [:])
        self.events.loggedOut()
        self.events.emit(.disconnect, user: self.session.user?.name)
    }

    /// Handles one event; returns false when the session is over.
    private func handle(_ event: ControlEvent) async -> Bool {
        self.lastReplyCode = nil
        switch event {
        case .command(let command):
            let keepGoing = await self.handle(command)
            self.logger.logCommand(command, reply: self.lastReplyCode, level: self.configuration.commandLogLevel)
            return keepGoing
        case .invalid(let error):
            await self.reply(FTPReply(parseError: error))
            self.logger.logRefusedLine("\(error)", reply: self.lastReplyCode, level: self.configuration.commandLogLevel)
        case .lineTooLong:
            await self.reply(FTPReply(500, "Command line too long."))
            self.logger.logRefusedLine("line too long", reply: 500, level: .notice)
        case .invalidEncoding:
            await self.reply(FTPReply(501, "Command line is not valid UTF-8."))
            self.logger.logRefusedLine("not UTF-8", reply: 501, level: self.configuration.commandLogLevel)
        }
        return true
    }

    private func handle(_ command: FTPCommand) async -> Bool {
        if case .abort = command {
            // The reader already closed the data connection if a transfer was running; by now that transfer has
            // ended with its 426, and ABOR itself is answered with 226 (RFC 959 §4.1.3).
            let aborted = self.lastTransferAborted
            self.lastTransferAborted = false
            await self.closeDataSetup()
            await self.reply(
                aborted ? FTPReply(226, "ABOR command successful.") : FTPReply(225, "No transfer to abort.")
            )
            return true
        }
        switch self.session.commandReceived(command) {
        case .reply(let reply):
            if case .reinitialize = command { await self.reinitialize() }
            await self.reply(reply)
        case .close(let reply):
            await self.reply(reply)
            return false
        case .authenticate(let user, let password):
            return await self.authenticate(user: user, password: password)
        case .rename(let source, let destination):
            await self.rename(from: source, to: destination)
        case .execute(let command, let restartOffset):
            await self.execute(command, restartOffset: restartOffset)
        case .startTLS(let reply):
            return await self.startTLS(reply)
        case .refuseAuth(let reply):
            try? await self.outbound.refuseAuth(reply)
        }
        return true
    }

    /// Sends a reply. A failure means the client is gone; the reader notices and ends the session.
    func reply(_ reply: FTPReply) async {
        self.lastReplyCode = reply.code
        try? await self.outbound.write(reply)
    }

    private func reinitialize() async {
        self.events.loggedOut()
        await self.closeDataSetup()
        self.fileSystem = nil
        self.workingDirectory = "/"
    }

    /// Resolves a client path against the working directory (never above the user's root).
    func resolve(_ argument: String) -> String? {
        FTPPath.resolve(argument, in: self.workingDirectory)
    }

    /// The logged-in user's permissions (none before login).
    var permissions: Permissions { self.session.user?.permissions ?? [] }
}
