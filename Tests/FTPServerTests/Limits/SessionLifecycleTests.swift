import FTPProtocol
import FTPServer
import NIOCore
import NIOEmbedded
import Testing

@Suite struct SessionLifecycleTests {
    /// An embedded channel that records the replies written to it.
    static func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 21)).wait()
        return channel
    }

    @Test func anIdleSessionIsClosedWith421AtOnce() throws {
        let channel = try Self.makeChannel()
        let lifecycle = SessionLifecycle(channel: channel, transfers: TransferControl())
        #expect(lifecycle.shutDown() == false, "idle")
        #expect(try channel.readOutbound(as: FTPReply.self) == SessionLifecycle.shutdownReply)
        #expect(!channel.isActive)
        #expect(lifecycle.commandStarted() == false, "no command starts on a closed session")
    }

    @Test func aBusySessionFinishesItsCommandThenStops() throws {
        let channel = try Self.makeChannel()
        let lifecycle = SessionLifecycle(channel: channel, transfers: TransferControl())
        #expect(lifecycle.commandStarted())
        #expect(lifecycle.shutDown() == true, "busy")
        #expect(try channel.readOutbound(as: FTPReply.self) == nil, "nothing written while the command runs")
        #expect(channel.isActive)
        #expect(lifecycle.commandFinished() == false, "the session must now say 421 and end")
        #expect(lifecycle.commandStarted() == false)
        _ = try channel.finish()
    }

    @Test func withoutShutdownCommandsComeAndGo() throws {
        let channel = try Self.makeChannel()
        let lifecycle = SessionLifecycle(channel: channel, transfers: TransferControl())
        for _ in 0..<3 {
            #expect(lifecycle.commandStarted())
            #expect(lifecycle.commandFinished())
        }
        _ = try channel.finish()
    }

    @Test func forceCloseAbortsTheTransferAndCloses() throws {
        let channel = try Self.makeChannel()
        let data = try Self.makeChannel()
        let transfers = TransferControl()
        let lifecycle = SessionLifecycle(channel: channel, transfers: transfers)
        #expect(lifecycle.commandStarted())
        transfers.begin("RETR /x", channel: data)
        lifecycle.forceClose()
        #expect(transfers.isAborted)
        #expect(!data.isActive, "the data connection is closed")
        #expect(try channel.readOutbound(as: FTPReply.self) == SessionLifecycle.shutdownReply)
        #expect(!channel.isActive)
        #expect(lifecycle.commandFinished() == false)
    }
}
