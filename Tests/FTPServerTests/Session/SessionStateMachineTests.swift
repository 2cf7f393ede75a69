import FTPProtocol
import Testing

@testable import FTPServer

@Suite("Session state machine")
struct SessionStateMachineTests {
    let alice = User(name: "alice", home: "/", permissions: .all, loginMessage: "Hi Alice", logoutMessage: "Bye Alice")

    @Test func loginSequence() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3)
        #expect(machine.commandReceived(.pass("x")) == .reply(FTPReply(503, "Login with USER first.")))
        #expect(machine.commandReceived(.list(nil)) == .reply(FTPReply(530, "Log in with USER and PASS first.")))
        #expect(machine.commandReceived(.user("alice")) == .reply(FTPReply(331, "Username ok, send password.")))
        #expect(machine.commandReceived(.pass("pw")) == .authenticate(user: "alice", password: "pw"))
        #expect(machine.loginSucceeded(alice) == FTPReply(230, "Hi Alice"))
        #expect(machine.user == alice)
        #expect(machine.commandReceived(.user("bob")) == .reply(FTPReply(530, "Can't change to another user.")))
        #expect(machine.commandReceived(.quit) == .close(FTPReply(221, "Bye Alice")))
    }

    @Test func commandsAllowedBeforeLogin() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3)
        #expect(machine.commandReceived(.features) == .execute(.features, restartOffset: 0))
        #expect(machine.commandReceived(.system) == .execute(.system, restartOffset: 0))
        #expect(machine.commandReceived(.quit) == .close(FTPReply(221, "Goodbye.")))
    }

    @Test func failedLoginsCloseAfterTheLimit() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3)
        for _ in 0..<2 {
            _ = machine.commandReceived(.user("alice"))
            #expect(machine.loginFailed() == .reply(FTPReply(530, "Authentication failed.")))
        }
        _ = machine.commandReceived(.user("alice"))
        guard case .close(let reply) = machine.loginFailed() else {
            Issue.record("the third failure did not close")
            return
        }
        #expect(reply.code == 421)
    }

    @Test func renameNeedsRenameFromImmediately() {
        var machine = self.loggedIn()
        #expect(machine.commandReceived(.renameTo("b")).replyCode == 503)
        #expect(machine.commandReceived(.renameFrom("a")) == .execute(.renameFrom("a"), restartOffset: 0))
        machine.renameSourceAccepted("/a")
        #expect(machine.commandReceived(.renameTo("b")) == .rename(from: "/a", to: "b"))
        // Used once.
        #expect(machine.commandReceived(.renameTo("c")).replyCode == 503)
        // Any other command in between drops the pending source.
        _ = machine.commandReceived(.renameFrom("a"))
        machine.renameSourceAccepted("/a")
        _ = machine.commandReceived(.noop)
        #expect(machine.commandReceived(.renameTo("b")).replyCode == 503)
    }

    @Test func restartOffsetGoesToTheNextTransferOnly() {
        var machine = self.loggedIn()
        #expect(machine.commandReceived(.restart(offset: 10)).replyCode == 350)
        #expect(machine.commandReceived(.passive) == .execute(.passive, restartOffset: 0))
        #expect(machine.commandReceived(.retrieve("f")) == .execute(.retrieve("f"), restartOffset: 10))
        #expect(machine.commandReceived(.retrieve("f")) == .execute(.retrieve("f"), restartOffset: 0))
        _ = machine.commandReceived(.restart(offset: 5))
        #expect(machine.commandReceived(.append("f")).replyCode == 503)
    }

    @Test func extendedPassiveAllRefusesOtherDataCommands() {
        var machine = self.loggedIn()
        #expect(machine.commandReceived(.extendedPassive(.all)).replyCode == 200)
        #expect(machine.commandReceived(.passive).replyCode == 503)
        #expect(machine.commandReceived(.port(HostPort(host: "127.0.0.1", port: 2000))).replyCode == 503)
        #expect(machine.commandReceived(.extendedPassive(.none)) == .execute(.extendedPassive(.none), restartOffset: 0))
    }

    @Test func typeAndFactsAndReinitialize() {
        var machine = self.loggedIn()
        #expect(machine.commandReceived(.type(.ascii)).replyCode == 200)
        #expect(machine.transferType == .ascii)
        #expect(
            machine.commandReceived(.options(command: "MLST", arguments: "type;size;"))
                == .reply(FTPReply(200, "MLST OPTS type;size;"))
        )
        #expect(machine.facts == [.type, .size])
        #expect(machine.commandReceived(.reinitialize).replyCode == 220)
        #expect(machine.user == nil)
        #expect(machine.transferType == .binary)
    }

    private func loggedIn() -> SessionStateMachine {
        var machine = SessionStateMachine(maximumLoginAttempts: 3)
        _ = machine.commandReceived(.user("alice"))
        _ = machine.loginSucceeded(alice)
        return machine
    }
}

extension SessionStateMachine.Action {
    var replyCode: Int? {
        switch self {
        case .reply(let reply), .close(let reply): reply.code
        default: nil
        }
    }
}
