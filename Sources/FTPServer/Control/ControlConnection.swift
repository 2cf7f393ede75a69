import FTPProtocol
import Foundation
import Logging
import NIOCore
import NIOSSL
import VirtualFS

/// What every control connection of one server shares. A class: each session holds a reference, not its own copy of
/// the whole configuration (which would cost every idle session most of a kilobyte).
package final class ServerContext: Sendable {
    package let configuration: FTPService.Configuration
    package let fileSystem: any VirtualFileSystem
    package let authorizer: any Authorizer
    package let group: any EventLoopGroup
    package let logger: Logger
    /// Failed logins per address and bans; nil when bans are off.
    package let loginBans: LoginBans?
    /// The bandwidth limiters.
    package let bandwidth: BandwidthLimits
    /// Events for the configured handlers, and metrics.
    package let events: EventDispatcher

    package init(
        configuration: FTPService.Configuration,
        fileSystem: any VirtualFileSystem,
        authorizer: any Authorizer,
        group: any EventLoopGroup,
        logger: Logger,
        loginBans: LoginBans?,
        bandwidth: BandwidthLimits,
        events: EventDispatcher
    ) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.authorizer = authorizer
        self.group = group
        self.logger = logger
        self.loginBans = loginBans
        self.bandwidth = bandwidth
        self.events = events
    }
}

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
        implicitTLSContext: NIOSSLContext? = nil,
        logger: Logger
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
        self.logger = logger
    }

    /// Serves the connection until QUIT, a dropped client, or cancellation.
    ///
    /// This frame and the closure's stay alive as long as the session (an idle session's task holds the slabs its
    /// frames took): the connection is built and the error logged in plain functions, so that neither frame holds
    /// their locals (640 and 320 bytes with them inline, a task-allocator slab more per session).
    package static func serve(
        _ asyncChannel: ControlChannel,
        lifecycle: SessionLifecycle,
        implicitTLSContext: NIOSSLContext?,
        logger: Logger,
        context: ServerContext
    ) async {
        do {
            try await asyncChannel.executeThenClose { inbound, _ in
                await Self.make(asyncChannel.channel, lifecycle, implicitTLSContext, logger, context).run(
                    inbound: inbound
                )
            }
        } catch {
            Self.logEnd(error, context.logger)
        }
    }

    @inline(never)
    private static func make(
        _ channel: any Channel,
        _ lifecycle: SessionLifecycle,
        _ implicitTLSContext: NIOSSLContext?,
        _ logger: Logger,
        _ context: ServerContext
    ) -> ControlConnection {
        ControlConnection(
            context: context,
            channel: channel,
            outbound: ReplyWriter(channel: channel, timeout: context.configuration.timeouts.replyWrite, logger: logger),
            lifecycle: lifecycle,
            implicitTLSContext: implicitTLSContext,
            logger: logger
        )
    }

    @inline(never)
    private static func logEnd(_ error: any Error, _ logger: Logger) {
        logger.debug("control connection ended with an error", metadata: ["ftp.error": "\(error)"])
    }

    func run(inbound: NIOAsyncChannelInboundStream<ControlEvent>) async {
        // Everything but the wait for the next command runs in child tasks: a task keeps the memory its deepest call
        // needed until it ends, so the session's own task, alive as long as the client stays, only ever holds this
        // loop's small frame. Run in it, the greeting, one login or one listing would leave kilobytes of frames behind
        // in every idle session.
        guard await self.inChildTask({ await $0.open() }) else { return }
        do {
            // One command at a time, in order. While a transfer runs, the channel's ControlIdleHandler answers ABOR,
            // STAT and NOOP on the event loop; other commands wait here, in the async channel's bounded buffer.
            for try await event in inbound {
                // A graceful shutdown closes an idle session itself (421), and lets a busy one finish its command.
                guard self.lifecycle.commandStarted() else { break }
                guard await self.inChildTask({ await $0.handle(event) }) else { break }
                guard self.lifecycle.commandFinished() else {
                    _ = await self.inChildTask { await $0.closeForShutdown() }
                    break
                }
            }
        } catch {
            // The client went away or the channel failed: same as a close.
        }
        _ = await self.inChildTask { await $0.close() }
    }

    /// Runs `body` in a child task and returns what it returns.
    @inline(never)
    private func inChildTask(_ body: @escaping @Sendable (ControlConnection) async -> Bool) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await body(self) }
            return await group.next() ?? false
        }
    }

    /// The start of the session: its log line, its event, the 220 greeting.
    private func open() async -> Bool {
        self.logger.info("session opened")
        self.events.emit(.connect, user: nil)
        await self.reply(FTPReply(220, self.configuration.banner))
        return true
    }

    /// A graceful shutdown came while a command ran: that command is done, the session ends now.
    private func closeForShutdown() async -> Bool {
        await self.reply(SessionLifecycle.shutdownReply)
        self.logger.info("session closed for shutdown after its last command")
        return false
    }

    /// The end of the session: the prepared data connection, the log line, the events.
    private func close() async -> Bool {
        await self.closeDataSetup()
        self.logger.info("session closed", metadata: self.session.user.map { ["ftp.user": "\($0.name)"] } ?? [:])
        self.events.loggedOut()
        self.events.emit(.disconnect, user: self.session.user?.name)
        return false
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
            // The channel handler already closed the data connection if a transfer was running; by now that transfer
            // has ended with its 426, and ABOR itself is answered with 226 (RFC 959 §4.1.3).
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

    /// Sends a reply. A failure means the client is gone; the closed channel ends the session at its next read.
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
