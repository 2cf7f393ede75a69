import FTPProtocol
import Testing

@testable import FTPServer

/// AUTH, PBSZ, PROT and CCC, and the TLS policies, on the session machine (RFC 4217).
@Suite("Session state machine: TLS")
struct SessionStateMachineTLSTests {
    let alice = User(name: "alice", home: "/", permissions: .all, loginMessage: nil, logoutMessage: nil)

    func codes(_ machine: inout SessionStateMachine, _ commands: [FTPCommand]) -> [Int] {
        commands.map { command in
            switch machine.commandReceived(command) {
            case .reply(let reply), .close(let reply), .startTLS(let reply), .refuseAuth(let reply): reply.code
            case .authenticate: 0
            case .execute: -1
            case .rename: -2
            }
        }
    }

    @Test func withoutACertificateAUTHIsRefusedAndReadingGoesOn() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3)
        guard case .refuseAuth(let reply) = machine.commandReceived(.authenticate("TLS")) else {
            Issue.record("AUTH without TLS must be refused")
            return
        }
        #expect(reply.code == 502)
        #expect(!machine.controlProtected)
    }

    @Test func explicitSequence() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3, tls: .init(offered: true))
        // Nothing of PBSZ/PROT/CCC before AUTH.
        #expect(
            codes(&machine, [.protectionBufferSize("0"), .protectionLevel("P"), .clearCommandChannel]) == [
                503, 503, 533,
            ]
        )
        guard case .refuseAuth(let unknown) = machine.commandReceived(.authenticate("GSSAPI")) else {
            Issue.record("AUTH GSSAPI must be refused")
            return
        }
        #expect(unknown.code == 504)
        // A USER given in clear does not survive AUTH TLS.
        _ = machine.commandReceived(.user("alice"))
        #expect(machine.commandReceived(.authenticate("TLS")) == .startTLS(FTPReply(234, "AUTH TLS successful.")))
        #expect(machine.controlProtected)
        #expect(machine.login == .awaitingUser)
        guard case .refuseAuth(let again) = machine.commandReceived(.authenticate("TLS")) else {
            Issue.record("a second AUTH TLS must be refused")
            return
        }
        #expect(again.code == 503)
        #expect(codes(&machine, [.protectionLevel("P")]) == [503])  // PBSZ first
        #expect(codes(&machine, [.protectionBufferSize("x"), .protectionBufferSize("1024")]) == [501, 200])
        #expect(machine.dataProtection == .clear)
        #expect(
            codes(&machine, [.protectionLevel("S"), .protectionLevel("E"), .protectionLevel("Q")]) == [536, 536, 504]
        )
        #expect(codes(&machine, [.protectionLevel("P")]) == [200])
        #expect(machine.dataProtection == .private)
        #expect(codes(&machine, [.protectionLevel("C")]) == [200])
        #expect(machine.dataProtection == .clear)
        #expect(codes(&machine, [.clearCommandChannel]) == [534])
        #expect(machine.dataProtectionRefusal == nil)
    }

    @Test func oldMechanismNames() {
        for mechanism in ["SSL", "TLS-C", "TLS-P"] {
            var machine = SessionStateMachine(maximumLoginAttempts: 3, tls: .init(offered: true))
            guard case .startTLS(let reply) = machine.commandReceived(.authenticate(mechanism)) else {
                Issue.record("AUTH \(mechanism) must start TLS")
                continue
            }
            #expect(reply.code == 234)
            // TLS-P protects the data connections too, as the draft that named it did.
            #expect(machine.dataProtection == (mechanism == "TLS-P" ? .private : .clear))
        }
    }

    @Test func authAfterLoginIsRefused() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3, tls: .init(offered: true))
        _ = machine.commandReceived(.user("alice"))
        _ = machine.loginSucceeded(alice)
        guard case .refuseAuth(let reply) = machine.commandReceived(.authenticate("TLS")) else {
            Issue.record("AUTH after login must be refused")
            return
        }
        #expect(reply.code == 503)
    }

    @Test func controlRequired() {
        var machine = SessionStateMachine(
            maximumLoginAttempts: 3,
            tls: .init(offered: true, requiredOnControl: true)
        )
        guard case .reply(let user) = machine.commandReceived(.user("alice")), user.code == 534 else {
            Issue.record("USER in clear must get 534")
            return
        }
        #expect(user.lines.joined().contains("TLS"))
        guard case .reply(let pass) = machine.commandReceived(.pass("secret")), pass.code == 530 else {
            Issue.record("PASS in clear must get 530")
            return
        }
        #expect(pass.lines.joined().contains("TLS"))
        _ = machine.commandReceived(.authenticate("TLS"))
        #expect(codes(&machine, [.user("alice"), .pass("secret")]) == [331, 0])
    }

    @Test func dataRequired() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3, tls: .init(offered: true, requiredOnData: true))
        #expect(machine.dataProtectionRefusal?.code == 521)
        _ = machine.commandReceived(.authenticate("TLS"))
        #expect(codes(&machine, [.protectionBufferSize("0"), .protectionLevel("C")]) == [200, 534])
        #expect(machine.dataProtectionRefusal?.code == 521)
        #expect(codes(&machine, [.protectionLevel("P")]) == [200])
        #expect(machine.dataProtectionRefusal == nil)
    }

    @Test func implicitStartsProtected() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3, tls: .init(offered: true), implicitTLS: true)
        #expect(machine.controlProtected && machine.dataProtection == .private && machine.protectionBufferSizeSet)
        #expect(codes(&machine, [.protectionLevel("C"), .protectionLevel("P")]) == [200, 200])
        guard case .refuseAuth(let reply) = machine.commandReceived(.authenticate("TLS")) else {
            Issue.record("AUTH on the implicit port must be refused")
            return
        }
        #expect(reply.code == 503)
    }

    @Test func reinitializeKeepsTLS() {
        var machine = SessionStateMachine(maximumLoginAttempts: 3, tls: .init(offered: true))
        _ = machine.commandReceived(.authenticate("TLS"))
        _ = codes(&machine, [.protectionBufferSize("0"), .protectionLevel("P")])
        _ = machine.commandReceived(.user("alice"))
        _ = machine.loginSucceeded(alice)
        #expect(codes(&machine, [.reinitialize]) == [220])
        #expect(machine.user == nil)
        #expect(machine.controlProtected && machine.dataProtection == .private)
    }
}
