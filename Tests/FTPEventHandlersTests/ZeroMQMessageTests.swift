import FTPProtocol
import FTPServer
import Testing

@testable import FTPEventHandlers

/// The message the original FsTPy published: `'{0} {1}'.format(file.split('/')[1], file)`.
@Suite("ZeroMQ message format")
struct ZeroMQMessageTests {
    static func event(_ kind: FTPEvent.Kind, path: String, home: String = "/") -> FTPEvent {
        let backend = home == "/" ? path : home + path
        return FTPEvent(
            kind: kind,
            session: 1,
            client: .init(address: "127.0.0.1", port: 40000),
            user: "alice",
            transfer: .init(
                direction: kind == .fileReceived || kind == .incompleteFileReceived ? .upload : .download,
                outcome: kind == .fileReceived || kind == .fileSent ? .completed : .aborted,
                path: path,
                backendPath: backend,
                bytes: 10,
                duration: .milliseconds(5),
                type: .binary
            )
        )
    }

    @Test(
        "file_received: first segment, a space, the path the client sees",
        arguments: [
            ("/chan/a.txt", "chan /chan/a.txt"),
            ("/chan/sub/dir/b.bin", "chan /chan/sub/dir/b.bin"),
            ("/top.txt", "top.txt /top.txt"),
            ("/ünï côdé/f", "ünï côdé /ünï côdé/f"),
        ]
    )
    func received(path: String, expected: String) {
        #expect(ZeroMQPublisher.message(for: Self.event(.fileReceived, path: path)) == expected)
    }

    @Test("the user's home is not part of the message (the original opened each home as its own file system)")
    func home() {
        #expect(ZeroMQPublisher.message(for: Self.event(.fileReceived, path: "/x/y", home: "/carol")) == "x /x/y")
    }

    @Test(
        "nothing for other events",
        arguments: [FTPEvent.Kind.fileSent, .incompleteFileReceived, .incompleteFileSent]
    )
    func others(kind: FTPEvent.Kind) {
        #expect(ZeroMQPublisher.message(for: Self.event(kind, path: "/chan/a")) == nil)
        #expect(
            ZeroMQPublisher.message(
                for: FTPEvent(kind: .login, session: 1, client: .init(address: "::1", port: nil), user: "a")
            ) == nil
        )
    }
}
