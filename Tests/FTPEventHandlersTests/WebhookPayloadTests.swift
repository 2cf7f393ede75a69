import FTPProtocol
import FTPServer
import Foundation
import Testing

@testable import FTPEventHandlers

/// The webhook's JSON body.
@Suite("webhook JSON body")
struct WebhookPayloadTests {
    static func object(_ event: FTPEvent) throws -> [String: Any] {
        let data = try WebhookPayload(event).json()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("a transfer: every field, the time in UTC with milliseconds, the duration in seconds")
    func transfer() throws {
        let event = FTPEvent(
            kind: .fileReceived,
            date: Date(timeIntervalSince1970: 1_795_165_952.125),
            session: 12,
            client: .init(address: "192.0.2.7", port: 50622),
            user: "alice",
            transfer: .init(
                direction: .upload,
                outcome: .completed,
                path: "/in/a.csv",
                backendPath: "/home/alice/in/a.csv",
                bytes: 1_048_576,
                duration: .milliseconds(84),
                type: .binary
            )
        )
        let json = String(decoding: try WebhookPayload(event).json(), as: UTF8.self)
        #expect(
            json
                == #"{"address":"192.0.2.7","backend_path":"/home/alice/in/a.csv","bytes":1048576,"duration":0.084,"#
                + #""event":"file_received","path":"/in/a.csv","port":50622,"result":"completed","session":12,"#
                + #""time":"2026-11-20T09:12:32.125Z","type":"binary","user":"alice"}"#
        )
    }

    @Test("not a transfer: the same keys, null where they do not apply")
    func loginFailed() throws {
        let event = FTPEvent(
            kind: .loginFailed,
            session: 4,
            client: .init(address: "2001:db8::7", port: nil),
            user: "mallory"
        )
        let object = try Self.object(event)
        #expect(
            Set(object.keys)
                == [
                    "event", "time", "session", "user", "address", "port", "path", "backend_path", "bytes",
                    "duration", "type", "result",
                ]
        )
        #expect(object["event"] as? String == "login_failed")
        #expect(object["result"] as? String == "failed")
        #expect(object["user"] as? String == "mallory")
        #expect(object["address"] as? String == "2001:db8::7")
        for key in ["port", "path", "backend_path", "bytes", "duration", "type"] {
            #expect(object[key] is NSNull, "\(key) should be null")
        }
    }

    @Test("outcomes and results", arguments: FTPEvent.Kind.allCases)
    func results(kind: FTPEvent.Kind) throws {
        let transfer: FTPEvent.Transfer? =
            kind.isTransfer
            ? .init(
                direction: .download,
                outcome: .storageFailed,
                path: "/a",
                backendPath: "/a",
                bytes: 0,
                duration: .zero,
                type: .ascii
            ) : nil
        let object = try Self.object(
            FTPEvent(kind: kind, session: 1, client: .init(address: "::1", port: 2), user: nil, transfer: transfer)
        )
        #expect(object["event"] as? String == kind.rawValue)
        let expected = kind.isTransfer ? "storage_failed" : (kind == .loginFailed ? "failed" : "ok")
        #expect(object["result"] as? String == expected)
        #expect(object["user"] is NSNull)
    }
}
